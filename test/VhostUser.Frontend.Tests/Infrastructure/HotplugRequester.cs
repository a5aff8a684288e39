// HotplugRequester.cs — a thread that keeps echo requests flowing through one ring while the test
// thread changes the memory table. Its buffers sit at fixed addresses allocated up front (so the
// thread never touches SharedGuestMemory's allocator while the test thread adds a region); once
// told to, it alternates requests wholly in region B with requests reading A and writing B.
//
// Hand-over: each loop reads the region to use right after counting itself, so once the loop
// count has moved past the value seen when B was withdrawn, no request uses B any more.
using VhostUser.Memory;

namespace VhostUser.Frontend.Tests.Infrastructure;

internal sealed class HotplugRequester : IDisposable
{
    private const int Length = 64;
    private const int Slots = 4;

    private readonly DriverRing _ring;
    private readonly SharedGuestMemory _memory;
    private readonly GuestAddress[] _input = new GuestAddress[Slots];
    private readonly GuestAddress[] _output = new GuestAddress[Slots];
    private readonly Thread _thread;
    private BufferPair? _regionB;
    private volatile bool _stop;
    private int _loops;
    private int _inA;
    private int _inB;
    private volatile Exception? _failure;

    public HotplugRequester(DriverRing ring, SharedGuestMemory memory)
    {
        _ring = ring;
        _memory = memory;
        for (int i = 0; i < Slots; i++)
        {
            _input[i] = memory.Allocate(Length);
            _output[i] = memory.Allocate(Length);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "hotplug requester" };
    }

    public int RequestsInA => Volatile.Read(ref _inA);

    public void Start() => _thread.Start();

    /// <summary>From now on, every other request uses buffers in <paramref name="region"/>.</summary>
    public void UseRegion(SharedRegion region)
    {
        var input = SharedGuestMemory.Allocate(region, Length);
        var output = SharedGuestMemory.Allocate(region, Length);
        Interlocked.Exchange(ref _regionB, new BufferPair(input, output)); // full fence: the addresses are published
    }

    /// <summary>Withdraws region B and returns once no request uses it any more.</summary>
    public void StopUsingRegion()
    {
        Interlocked.Exchange(ref _regionB, null);
        int seen = Interlocked.CompareExchange(ref _loops, 0, 0);
        Wait(() => Volatile.Read(ref _loops) > seen + 1, "the requester to leave region B");
    }

    public void WaitFor(int requestsInA, int requestsInB) =>
        Wait(() => Volatile.Read(ref _inA) >= requestsInA && Volatile.Read(ref _inB) >= requestsInB,
            $"{requestsInA} requests in A and {requestsInB} in B");

    public void Stop()
    {
        _stop = true;
        _thread.Join(BackendPair.Timeout);
        if (_failure is { } failure)
        {
            throw new InvalidOperationException("the requester failed", failure);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(BackendPair.Timeout);
    }

    private void Wait(Func<bool> condition, string what)
    {
        if (!SpinWait.SpinUntil(() => condition() || _failure is not null, TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }
        if (_failure is { } failure)
        {
            throw new InvalidOperationException("the requester failed", failure);
        }
    }

    private void Run()
    {
        try
        {
            for (int n = 0; !_stop; n++)
            {
                Interlocked.Increment(ref _loops);
                var regionB = Interlocked.CompareExchange(ref _regionB, null, null);
                int slot = n % Slots;
                bool useB = regionB is not null && n % 2 == 1;
                var input = useB && n % 4 == 1 ? regionB!.Input : _input[slot];
                var output = useB ? regionB!.Output : _output[slot];
                Echo(input, output, n);
                Interlocked.Increment(ref useB ? ref _inB : ref _inA);
            }
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }

    private void Echo(GuestAddress input, GuestAddress output, int n)
    {
        var data = new byte[Length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(n + i);
        }
        _memory.Write(input, data);
        _memory.Fill(output, Length, 0);
        ushort id = _ring.Offer(DriverBuffer.At(input, Length, writable: false), DriverBuffer.At(output, Length, writable: true));
        var used = _ring.WaitUsed();
        if (used.Id != id || used.Length != Length || !_ring.Queue.ReadWritten(used).AsSpan().SequenceEqual(data))
        {
            throw new InvalidOperationException($"request {n}: wrong answer (id {used.Id} of {id}, {used.Length} bytes)");
        }
    }

    private sealed record BufferPair(GuestAddress Input, GuestAddress Output);
}
