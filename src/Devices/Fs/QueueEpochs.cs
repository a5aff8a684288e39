// QueueEpochs.cs — how many times each ring has been started (counted on the queue's worker, in
// OnQueueStarted). Work finished off the worker (the thread pool, SETLKW waits) records the epoch
// it was popped in and is completed only if the ring is still that one: a chain from before a
// GET_VRING_BASE, a reset or a reconnect must never be completed on the ring that replaced it.
namespace VhostUser.Devices.Fs;

internal sealed class QueueEpochs(int queueCount)
{
    private readonly long[] _starts = new long[queueCount];

    /// <summary>The current epoch of <paramref name="queue"/>.</summary>
    public long this[int queue] => Volatile.Read(ref _starts[queue]);

    /// <summary>The ring of <paramref name="queue"/> (re)started: earlier work is now stale.</summary>
    public void Started(int queue) => Interlocked.Increment(ref _starts[queue]);
}
