// GuestMemoryLease.cs — keeps the regions of one GuestMemory snapshot mapped while a thread other
// than the queue worker (a device's I/O pool) reads or writes a chain's buffers. A memory-table
// change swaps snapshots on the workers and then disposes the old regions (design README 1.5);
// a leased region is unmapped only when the last lease ends (SafeHandle reference counting).
namespace VhostUser.Memory;

/// <summary>A hold on a guest memory snapshot's mappings.</summary>
public sealed class GuestMemoryLease : IDisposable
{
    private readonly GuestRegion[] _regions;
    private int _disposed;

    internal GuestMemoryLease(GuestMemory memory)
    {
        Memory = memory;
        _regions = [.. memory.Regions];
        int taken = 0;
        try
        {
            for (; taken < _regions.Length; taken++)
            {
                _regions[taken].AddLease();
            }
        }
        catch
        {
            for (int i = 0; i < taken; i++)
            {
                _regions[i].ReleaseLease();
            }
            throw;
        }
    }

    /// <summary>The snapshot held: build readers and writers over it.</summary>
    public GuestMemory Memory { get; }

    /// <summary>Ends the hold (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var region in _regions)
            {
                region.ReleaseLease();
            }
        }
    }
}
