// FsQueue.cs — one started queue of the device from the driver side: a fixed set of request and
// reply buffers in guest memory (one pair per slot of --queue-depth), and the loop that keeps
// every slot in flight: refill a slot as soon as its reply is back, kick once per batch, sleep on
// the call eventfd (with interrupts re-enabled first, as a guest driver does).
using VhostUser.Frontend;
using VhostUser.Unix;
using VhostUser.Memory;

namespace VhostUser.FsBench;

internal sealed class FsQueue : IDisposable
{
    public const int BufferSize = (1 << 20) + 4096;

    private readonly SharedGuestMemory _memory;
    private readonly GuestAddress[] _requests;
    private readonly GuestAddress[] _replies;
    private readonly int[] _slotOfId;
    private readonly Epoll _epoll = Epoll.Create();

    public FsQueue(SharedGuestMemory memory, DriverQueue driver, int depth)
    {
        _memory = memory;
        Driver = driver;
        _requests = new GuestAddress[depth];
        _replies = new GuestAddress[depth];
        for (int i = 0; i < depth; i++)
        {
            _requests[i] = memory.Allocate(BufferSize, 4096);
            _replies[i] = memory.Allocate(BufferSize, 4096);
        }
        _slotOfId = new int[driver.Size];
        _epoll.Add(Call.Descriptor, EpollEvents.In, 1);
    }

    public DriverQueue Driver { get; }

    public EventFd Kick { get; } = EventFd.Create();

    public EventFd Call { get; } = EventFd.Create();

    public int Depth => _requests.Length;

    /// <summary>Fills a slot: writes the request bytes into <paramref name="request"/>, returns (request length, reply capacity).</summary>
    public delegate (int Length, int ReplyCapacity) Fill(int slot, Span<byte> request);

    /// <summary>Checks a reply; returns false to stop refilling that slot.</summary>
    public delegate bool Done(int slot, ReadOnlySpan<byte> reply);

    /// <summary>Runs until <paramref name="until"/> or until no slot is refilled; returns the replies seen.</summary>
    public long Run(Fill fill, Done done, DateTime until, int slots = 0)
    {
        long completed = 0;
        int inFlight = 0;
        var request = new byte[BufferSize];
        var reply = new byte[BufferSize];
        for (int slot = 0; slot < (slots == 0 ? Depth : slots); slot++)
        {
            Offer(fill, slot, request);
            inFlight++;
        }
        Kick.Signal();
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        bool recheck = false;
        while (inFlight > 0)
        {
            bool refilled = false;
            while (Driver.TryTakeUsed(out var used))
            {
                recheck = false;
                inFlight--;
                completed++;
                int slot = _slotOfId[used.Id];
                var bytes = reply.AsSpan(0, (int)used.Length);
                _memory.View.Read(_replies[slot], bytes);
                if (done(slot, bytes) && DateTime.UtcNow < until)
                {
                    Offer(fill, slot, request);
                    inFlight++;
                    refilled = true;
                }
            }
            if (refilled)
            {
                Kick.Signal();
                continue;
            }
            if (inFlight == 0)
            {
                break;
            }
            if (!recheck)
            {
                // As a driver does before sleeping: ask for an interrupt, then look once more,
                // since the device may have completed something before it saw the request.
                Driver.EnableInterrupts();
                // The used_event store must be visible before the re-check loads the used index
                // (x86 reorders a store after a later load): the driver-side mb() of the virtio spec.
                Interlocked.MemoryBarrier();
                recheck = true;
                continue;
            }
            if (_epoll.Wait(events, 10_000) == 0)
            {
                throw new TimeoutException("no reply within 10 s");
            }
            Call.Drain();
            recheck = false;
        }
        return completed;
    }

    /// <summary>One request on slot 0, waited for; returns the reply bytes.</summary>
    public byte[] CallOnce(byte[] requestBytes, int replyCapacity)
    {
        byte[] result = [];
        Run((_, request) =>
        {
            requestBytes.CopyTo(request);
            return (requestBytes.Length, replyCapacity);
        }, (_, reply) =>
        {
            result = reply.ToArray();
            return false;
        }, DateTime.MaxValue, slots: 1);
        return result;
    }

    public void Dispose()
    {
        _epoll.Dispose();
        Kick.Dispose();
        Call.Dispose();
    }

    private void Offer(Fill fill, int slot, Span<byte> scratch)
    {
        var (length, replyCapacity) = fill(slot, scratch);
        _memory.View.Write(_requests[slot], scratch[..length]);
        ushort id = replyCapacity == 0
            ? Driver.Offer(DriverBuffer.At(_requests[slot], (uint)length, false))
            : Driver.Offer(DriverBuffer.At(_requests[slot], (uint)length, false), DriverBuffer.At(_replies[slot], (uint)replyCapacity, true));
        _slotOfId[id] = slot;
    }
}
