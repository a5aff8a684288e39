// BenchQueue.cs — one driven queue: the driver ring, its kick and call eventfds, and when each
// in-flight request was offered (indexed by its id, which is unique while in flight).
using System.Diagnostics;
using VhostUser.Frontend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>A queue the bench keeps busy.</summary>
internal sealed class BenchQueue : IDisposable
{
    private readonly long[] _offeredAt;
    private readonly bool _indirect;
    private bool _offeredSinceKick;

    public BenchQueue(int index, DriverQueue driver, bool indirect)
    {
        Index = index;
        Driver = driver;
        _indirect = indirect;
        _offeredAt = new long[driver.Size];
    }

    public int Index { get; }

    public DriverQueue Driver { get; }

    public EventFd Kick { get; } = EventFd.Create();

    public EventFd Call { get; } = EventFd.Create();

    /// <summary>Requests offered and not yet taken back.</summary>
    public int InFlight { get; private set; }

    /// <summary>Offers one request and notes the time.</summary>
    public void Offer(RequestFormat format)
    {
        ushort id = format.Offer(Driver, _indirect);
        _offeredAt[id] = Stopwatch.GetTimestamp();
        InFlight++;
        _offeredSinceKick = true;
    }

    /// <summary>Kicks the device if it asked for it (NO_NOTIFY / avail_event / packed event).</summary>
    public void KickIfNeeded()
    {
        if (_offeredSinceKick)
        {
            _offeredSinceKick = false;
            if (Driver.NeedsKick())
            {
                Kick.Signal();
            }
        }
    }

    /// <summary>Takes one used request back: its element and when it was offered.</summary>
    public bool TryTakeUsed(out UsedElement used, out long offeredAt)
    {
        if (!Driver.TryTakeUsed(out used))
        {
            offeredAt = 0;
            return false;
        }
        InFlight--;
        offeredAt = _offeredAt[used.Id];
        return true;
    }

    public void Dispose()
    {
        Kick.Dispose();
        Call.Dispose();
    }
}
