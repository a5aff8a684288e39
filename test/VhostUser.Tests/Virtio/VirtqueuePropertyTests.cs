// VirtqueuePropertyTests.cs — random interleavings of driver offers and device pops, completions
// (in any order), used-buffer takes and notification hand-shakes, split and packed, from random
// start indices so the 16-bit split indices and the packed wrap counters wrap many times. The
// model checks that every chain is popped once with exactly its buffers and bytes, every
// completion comes back with its id, length and bytes, and no kick or interrupt is lost.
using CsCheck;
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class VirtqueuePropertyTests
{
    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (4, Gen.Select(Gen.Int[0, 40].Array[0, 3], Gen.Int[0, 40].Array[0, 3], Gen.Bool, (r, w, i) => (Op)new OfferOp(r, w, i))),
        (4, Gen.Const((Op)new PopOp())),
        (4, Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 100], (p, pct) => (Op)new CompleteOp(p, pct))),
        (3, Gen.Const((Op)new TakeOp())),
        (1, Gen.Const((Op)new DeviceIdleOp())),
        (1, Gen.Const((Op)new SignalOp())),
        (1, Gen.Const((Op)new DriverWaitOp())));

    private static readonly Gen<ushort> GenStart = Gen.OneOf<ushort>(Gen.Const((ushort)0), Gen.UShort[65400, 65535], Gen.UShort);

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        Gen.Bool, Gen.Bool, Gen.Int[0, 4], Gen.Int[1, 16], GenStart, GenOp.Array[50, 400],
        (eventIdx, indirect, log, packedSize, start, ops) => new Scenario(eventIdx, indirect, 1 << log, packedSize, start, ops));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomOperations_AnyInterleaving_EveryChainAndCompletionArrivesExactlyOnce(bool packed)
    {
        GenScenario.Sample(scenario => new Model(scenario, packed).Run(), iter: 300, threads: 1);
    }

    private abstract record Op;

    private sealed record OfferOp(int[] Readable, int[] Writable, bool Indirect) : Op;

    private sealed record PopOp : Op;

    private sealed record CompleteOp(int Pick, int Percent) : Op;

    private sealed record TakeOp : Op;

    private sealed record DeviceIdleOp : Op;

    private sealed record SignalOp : Op;

    private sealed record DriverWaitOp : Op;

    private sealed record Scenario(bool EventIdx, bool Indirect, int SplitSize, int PackedSize, ushort Start, Op[] Ops)
    {
        public override string ToString() =>
            $"eventIdx={EventIdx} indirect={Indirect} splitSize={SplitSize} packedSize={PackedSize} start={Start} ops=[{string.Join(" ", Ops.Select(o => o.GetType().Name[..2]))}]";
    }

    private sealed record Offered(ushort Id, ChainSegment[] Segments, byte[] Readable);

    /// <summary>The reference model: what each side must see, whatever the interleaving.</summary>
    private sealed class Model(Scenario scenario, bool packed)
    {
        private readonly Queue<Offered> _available = new();
        private readonly List<(DescriptorChain Chain, Offered Offer)> _inFlight = [];
        private readonly Queue<(ushort Id, byte[] Written)> _used = new();
        private readonly List<string> _trace = [];
        private int _offers;
        private int _taken;
        private bool _deviceSleeping;
        private bool _driverWaiting;
        private bool _completedWhileWaiting;

        public void Run()
        {
            using var h = QueueHarness.Create(packed, scenario.EventIdx, scenario.Indirect,
                size: packed ? scenario.PackedSize : scenario.SplitSize, startIndex: packed ? (ushort)0 : scenario.Start);
            foreach (var op in scenario.Ops)
            {
                Apply(h, op);
            }
            Drain(h);
            Assert.Equal(_offers, _taken);
            Assert.Equal(0, h.Driver.InFlightCount);
            Assert.Equal(0, h.Device.InFlightCount);
        }

        private string Trace => string.Join("\n", _trace.TakeLast(40));

        private void Apply(QueueHarness h, Op op)
        {
            _trace.Add($"{op.GetType().Name} base={h.Device.GetBase():x8} used={_used.Count} inFlight={_inFlight.Count} waiting={_driverWaiting}");
            switch (op)
            {
                case OfferOp offer: Offer(h, offer); break;
                case PopOp: Pop(h); break;
                case CompleteOp complete: Complete(h, complete); break;
                case TakeOp: Take(h); break;
                case DeviceIdleOp: _deviceSleeping = !h.Device.EnableNotification(); break;
                case SignalOp: Signal(h); break;
                case DriverWaitOp: Wait(h); break;
            }
        }

        private void Offer(QueueHarness h, OfferOp op)
        {
            var buffers = op.Readable.Select((length, i) => DriverBuffer.Readable(ChainData.Pattern(length, seed: _offers * 7 + i)))
                .Concat(op.Writable.Select(length => DriverBuffer.Writable((uint)length)))
                .DefaultIfEmpty(DriverBuffer.Writable(1)).ToArray();
            bool indirect = op.Indirect && scenario.Indirect;
            if (!h.Driver.CanOffer(buffers.Length, indirect))
            {
                return;
            }
            ushort id = h.Driver.Offer(buffers, indirect);
            _offers++;
            var segments = h.Driver.GetOfferedSegments(id).Where(s => s.Length > 0).ToArray();
            var readable = buffers.Where(b => !b.IsWritable).SelectMany(b => b.Data.ToArray()).ToArray();
            _available.Enqueue(new Offered(id, segments, readable));
            bool kick = h.Driver.NeedsKick();
            Assert.False(_deviceSleeping && !kick, "lost kick: the device went idle and the driver did not kick\n" + Trace);
            _deviceSleeping &= !kick;
        }

        private void Pop(QueueHarness h)
        {
            Assert.False(_deviceSleeping && _available.Count > 0, "the device sleeps with buffers available");
            _deviceSleeping = false; // polling: busy until it goes idle again
            h.Device.DisableNotification();
            if (!h.Device.TryPop(out var chain))
            {
                Assert.Empty(_available);
                return;
            }
            var expected = _available.Dequeue();
            Assert.Equal(expected.Id, chain.Id);
            Assert.Equal(expected.Segments, chain.Segments.ToArray());
            Assert.Equal(expected.Readable, ChainData.ReadAll(chain));
            _inFlight.Add((chain, expected));
        }

        private void Complete(QueueHarness h, CompleteOp op)
        {
            if (_inFlight.Count == 0)
            {
                return;
            }
            int index = op.Pick % _inFlight.Count;
            var (chain, offer) = _inFlight[index];
            _inFlight.RemoveAt(index);
            var data = ChainData.Pattern((int)(chain.WritableLength * (ulong)op.Percent / 100), seed: offer.Id + _taken);
            var writer = chain.CreateWriter();
            Assert.True(writer.TryWrite(data));
            h.Device.AddUsed(chain, writer.BytesWritten);
            _used.Enqueue((chain.Id, data));
            _completedWhileWaiting |= _driverWaiting;
        }

        private void Take(QueueHarness h)
        {
            h.Driver.DisableInterrupts();
            _driverWaiting = false;
            if (!h.Driver.TryTakeUsed(out var used))
            {
                Assert.Empty(_used);
                return;
            }
            var (id, written) = _used.Dequeue();
            Assert.Equal(id, (ushort)used.Id);
            Assert.Equal((uint)written.Length, used.Length);
            Assert.Equal(written, h.Driver.ReadWritten(used));
            _taken++;
        }

        private void Signal(QueueHarness h)
        {
            bool notify = h.Device.NeedsNotification();
            Assert.False(_driverWaiting && _completedWhileWaiting && !notify, "lost interrupt: the driver waits for a used buffer it will not hear of\n" + Trace);
            if (notify)
            {
                _driverWaiting = false;
            }
        }

        private void Wait(QueueHarness h)
        {
            h.Driver.EnableInterrupts();
            // A driver re-enables and then polls once more; it sleeps only if nothing is there.
            _driverWaiting = _used.Count == 0;
            _completedWhileWaiting = false;
        }

        private void Drain(QueueHarness h)
        {
            _deviceSleeping = false;
            while (_available.Count > 0)
            {
                Pop(h);
            }
            while (_inFlight.Count > 0)
            {
                Complete(h, new CompleteOp(0, 50));
            }
            while (_used.Count > 0)
            {
                Take(h);
            }
            Assert.False(h.Device.TryPop(out _));
            Assert.False(h.Driver.TryTakeUsed(out _));
        }
    }
}
