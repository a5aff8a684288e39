// RingPositionTests.cs — ring positions: GET/SET_VRING_BASE round trips (split index; packed slots
// with wrap bits, vhost-user-protocol.md §3), the 16-bit split indices wrapping past 65535, packed
// wrap counters over several laps, and giving in-flight chains back with RewindInFlight.
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class RingPositionTests
{
    [Fact]
    public void GetBase_SplitAfterPops_IsTheNextAvailIndexAndRestartsThere()
    {
        using var h = QueueHarness.Create(packed: false, startIndex: 1000);
        for (int i = 0; i < 4; i++)
        {
            h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)i }));
        }
        h.Device.AddUsed(h.Pop(), 0);
        h.Device.AddUsed(h.Pop(), 0);

        uint value = h.Device.GetBase();
        Assert.Equal(1002u, value);

        var restarted = Restart(h, value);
        var chain = PopFrom(restarted);
        Assert.Equal(new byte[] { 2 }, ChainData.ReadAll(chain));
        restarted.AddUsed(chain, 0);
        Assert.Equal(3, CountUsed(h)); // the used index continued from the ring, not from zero
    }

    [Fact]
    public void GetBase_PackedAfterALap_EncodesSlotsAndWrapCounters()
    {
        using var h = QueueHarness.Create(packed: true, size: 4);
        Assert.Equal(0x8000_8000u, h.Device.GetBase()); // slot 0, both wrap counters 1
        for (int i = 0; i < 5; i++)
        {
            h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)i }));
            h.Device.AddUsed(h.Pop(), 0);
            h.TakeUsed();
        }
        h.Driver.Offer(DriverBuffer.Readable(new byte[] { 5 }), DriverBuffer.Writable(1));
        h.Pop();

        // avail: slot 3, wrap 0 (bit 15 clear); used: slot 1, wrap 0 (bit 31 clear).
        Assert.Equal(0x0001_0003u, h.Device.GetBase());
    }

    [Fact]
    public void SetBase_PackedValueFromGetBase_ContinuesOnTheSameSlotsAndLaps()
    {
        using var h = QueueHarness.Create(packed: true, size: 3);
        for (int i = 0; i < 4; i++)
        {
            h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)i }));
            h.Device.AddUsed(h.Pop(), 0);
            h.TakeUsed();
        }

        var restarted = Restart(h, h.Device.GetBase());
        for (int i = 4; i < 10; i++)
        {
            ushort id = h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)i }));
            var chain = PopFrom(restarted);
            Assert.Equal(new[] { (byte)i }, ChainData.ReadAll(chain));
            restarted.AddUsed(chain, 0);
            Assert.Equal(id, (ushort)h.TakeUsed().Id);
        }
        Assert.Equal(h.Driver.NextAvailSlot, (int)(restarted.GetBase() & 0x7FFF));
        Assert.Equal(h.Driver.AvailWrapCounter, (restarted.GetBase() & 0x8000) != 0);
    }

    [Theory]
    [InlineData(0x0000_0004u)] // avail slot 4 in a 4-entry ring
    [InlineData(0x0004_0000u)] // used slot 4
    [InlineData(0x7FFF_7FFFu)]
    public void SetBase_PackedSlotOutsideTheRing_ThrowsAvailIndexOutOfRange(uint value)
    {
        var queue = new Virtqueue(0);
        queue.Configure(new VirtqueueLayout(4, default, default, default), RingConfigs.Features(packed: true));
        var ex = Assert.Throws<VirtqueueException>(() => queue.SetBase(value));
        Assert.Equal(VirtqueueError.AvailIndexOutOfRange, ex.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PopComplete_SplitIndicesFrom65530_WrapPast65535WithoutLosingAChain(bool eventIdx)
    {
        using var h = QueueHarness.Create(packed: false, eventIdx, size: 8, startIndex: 65530);
        int delivered = 0;
        for (int round = 0; round < 7; round++)
        {
            var ids = new List<ushort>();
            for (int i = 0; i < 4; i++) // 4 chains of 2 descriptors fill the 8-entry table
            {
                ids.Add(h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)(round * 4 + i) }), DriverBuffer.Writable(4)));
            }
            foreach (ushort id in ids)
            {
                var chain = h.Pop();
                Assert.Equal(id, chain.Id);
                Assert.Equal(new[] { (byte)(round * 4 + ids.IndexOf(id)) }, ChainData.ReadAll(chain));
                h.Device.AddUsed(chain, 4);
            }
            foreach (ushort id in ids)
            {
                var used = h.TakeUsed();
                Assert.Equal((id, 4u), ((ushort)used.Id, used.Length));
                delivered++;
            }
        }
        Assert.Equal(28, delivered);
        Assert.Equal((ushort)22, h.Driver.ReadUsedIndex()); // (65530 + 28) mod 2^16
        Assert.Equal(22u, h.Device.GetBase());
    }

    [Fact]
    public void TryPop_SplitAvailIndexWrappedWithFullRing_PopsAllEntries()
    {
        using var h = QueueHarness.Create(packed: false, size: 8, startIndex: 65532);
        var ids = Enumerable.Range(0, 8).Select(i => h.Driver.Offer(DriverBuffer.Readable(new[] { (byte)i }))).ToList();
        Assert.Equal((ushort)4, h.Driver.AvailIndex); // 65532 + 8

        var popped = Enumerable.Range(0, 8).Select(_ => h.Pop().Id).ToList();
        Assert.Equal(ids, popped);
        Assert.False(h.Device.TryPop(out _));
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(3, true)]
    [InlineData(5, false)]
    [InlineData(8, true)]
    public void PopComplete_PackedSeveralLapsWithChainsThatWrap_KeepsIdsAndData(int size, bool eventIdx)
    {
        using var h = QueueHarness.Create(packed: true, eventIdx, size: size);
        for (int i = 0; i < 7 * size; i++)
        {
            var data = ChainData.Pattern(1 + i % 5, seed: i);
            ushort id = h.Driver.Offer(DriverBuffer.Readable(data), DriverBuffer.Writable(2)); // 2 slots: lap ends mid-chain
            var chain = h.Pop();
            Assert.Equal(id, chain.Id);
            Assert.Equal(2, chain.RingSlots);
            Assert.Equal(data, ChainData.ReadAll(chain));
            h.Device.AddUsed(chain, 1);
            var used = h.TakeUsed();
            Assert.Equal((id, 1u), ((ushort)used.Id, used.Length));
        }
        Assert.Equal(h.Driver.AvailWrapCounter, (h.Device.GetBase() & 0x8000) != 0);
        Assert.Equal(h.Driver.UsedWrapCounter, (h.Device.GetBase() & 0x8000_0000) != 0);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void RewindInFlight_TailOfPops_GivesThemBackToBePoppedAgain(bool packed)
    {
        using var h = QueueHarness.Create(packed, size: 4);
        h.Driver.Offer(DriverBuffer.Readable(new byte[] { 0 }));
        h.Device.AddUsed(h.Pop(), 0);
        h.TakeUsed();
        var ids = new List<ushort>
        {
            h.Driver.Offer(DriverBuffer.Readable(new byte[] { 1 }), DriverBuffer.Writable(1)), // packed: slots 1, 2
            h.Driver.Offer(DriverBuffer.Readable(new byte[] { 2 }), DriverBuffer.Writable(1)), // packed: slots 3, 0 (wraps)
        };
        uint before = h.Device.GetBase();
        h.Pop();
        h.Pop();

        Assert.Equal(2, h.Device.RewindInFlight());

        Assert.Equal(before, h.Device.GetBase());
        Assert.Equal(0, h.Device.InFlightCount);
        var again = new[] { h.Pop(), h.Pop() };
        Assert.Equal(ids, again.Select(c => c.Id));
        Assert.Equal(new byte[] { 2 }, ChainData.ReadAll(again[1]));
    }

    [Fact]
    public void RewindInFlight_LaterChainAlreadyCompleted_RefusesWithMinusOne()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Driver.Offer(DriverBuffer.Writable(1));
        h.Driver.Offer(DriverBuffer.Writable(1));
        var first = h.Pop();
        h.Device.AddUsed(h.Pop(), 0);
        uint basis = h.Device.GetBase();

        Assert.Equal(-1, h.Device.RewindInFlight());
        Assert.Equal(basis, h.Device.GetBase());
        Assert.Equal(1, h.Device.InFlightCount);
        h.Device.AddUsed(first, 0);
    }

    [Fact]
    public void RewindInFlight_NothingInFlight_ReturnsZero()
    {
        using var h = QueueHarness.Create(packed: true);
        Assert.Equal(0, h.Device.RewindInFlight());
    }

    /// <summary>Stops the device queue and starts a new one at <paramref name="value"/>, as on SET_VRING_BASE.</summary>
    private static Virtqueue Restart(QueueHarness h, uint value)
    {
        h.Device.Stop();
        var queue = new Virtqueue(0);
        queue.Configure(h.Driver.Layout, h.Driver.Features);
        queue.SetBase(value);
        queue.Start(h.Backend);
        return queue;
    }

    private static DescriptorChain PopFrom(Virtqueue queue)
    {
        Assert.True(queue.TryPop(out var chain));
        return chain;
    }

    private static int CountUsed(QueueHarness h)
    {
        int count = 0;
        while (h.Driver.TryTakeUsed(out _))
        {
            count++;
        }
        return count;
    }
}
