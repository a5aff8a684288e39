// DriverRing.cs — one started ring seen from the driver: the DriverQueue, its kick and call
// eventfds, offering with a kick only when the device asks for one, waiting for used buffers with
// a deadline the way a driver sleeps (re-enable interrupts, re-check, wait), and the restart
// sequence after GET_VRING_BASE.
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Infrastructure;

internal sealed class DriverRing : IDisposable
{
    private readonly VhostUserFrontend _frontend;
    private readonly Epoll _epoll = Epoll.Create();

    public DriverRing(VhostUserFrontend frontend, int index, DriverQueue queue)
    {
        _frontend = frontend;
        Index = index;
        Queue = queue;
        Call = EventFd.Create();
        Kick = EventFd.Create();
        _epoll.Add(Call.Descriptor, EpollEvents.In, 1);
    }

    public int Index { get; }

    public DriverQueue Queue { get; }

    public EventFd Kick { get; private set; }

    public EventFd Call { get; }

    /// <summary>Kicks sent (the rest were suppressed by the device).</summary>
    public int KicksSent { get; private set; }

    /// <summary>Offers a chain and kicks if the device wants a notification.</summary>
    public ushort Offer(params ReadOnlySpan<DriverBuffer> buffers)
    {
        ushort id = Queue.Offer(buffers);
        KickIfNeeded();
        return id;
    }

    public void KickIfNeeded()
    {
        if (Queue.NeedsKick())
        {
            Kick.Signal();
            KicksSent++;
        }
    }

    /// <summary>Offers <paramref name="data"/> plus a writable buffer of the same size and returns what the device wrote.</summary>
    public byte[] Echo(byte[] data)
    {
        ushort id = Offer(DriverBuffer.Readable(data), DriverBuffer.Writable((uint)data.Length));
        var used = WaitUsed();
        Assert.Equal(id, (ushort)used.Id);
        return Queue.ReadWritten(used);
    }

    /// <summary>Waits for the next used buffer, up to <paramref name="timeout"/> (default 10 s).</summary>
    public UsedElement WaitUsed(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? BackendPair.Timeout);
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        while (true)
        {
            if (Queue.TryTakeUsed(out var used))
            {
                return used;
            }
            // As a driver does before sleeping: ask for an interrupt (used_event / ENABLE), then re-check.
            Queue.EnableInterrupts();
            if (Queue.TryTakeUsed(out used))
            {
                return used;
            }
            int left = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
            if (left <= 0)
            {
                throw new TimeoutException($"no used buffer on queue {Index} within the deadline");
            }
            if (_epoll.Wait(events, left) > 0)
            {
                Call.Drain();
            }
        }
    }

    /// <summary>True if a used buffer arrives within <paramref name="timeout"/> (without taking it back).</summary>
    public bool HasUsedWithin(TimeSpan timeout)
    {
        Queue.EnableInterrupts();
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        return _epoll.Wait(events, (int)timeout.TotalMilliseconds) > 0;
    }

    /// <summary>Restarts a stopped ring at <paramref name="ringBase"/> with a new kick fd, as QEMU does.</summary>
    public void Restart(uint ringBase)
    {
        Kick.Dispose();
        Kick = EventFd.Create();
        _frontend.SetVringNum(Index, Queue.Size);
        _frontend.SetVringBase(Index, ringBase);
        _frontend.SetVringAddr(Index, Queue.UserAddresses);
        _frontend.SetVringCall(Index, Call);
        _frontend.SetVringKick(Index, Kick);
        _frontend.SetVringEnable(Index, true);
    }

    public void Dispose()
    {
        _epoll.Dispose();
        Kick.Dispose();
        Call.Dispose();
    }
}
