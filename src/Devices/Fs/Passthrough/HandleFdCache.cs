// HandleFdCache.cs — with --inode-file-handles, the most recently opened descriptors of handle
// inodes stay open (up to DefaultSize), so a busy inode costs one open_by_handle_at rather than
// one per request, while a tree of millions of inodes still holds a bounded number of fds. The
// oldest entry is evicted first; a request that borrowed an evicted descriptor (SafeHandle
// reference) keeps it open until it is done.
using System.Collections.Concurrent;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed class HandleFdCache(int capacity)
{
    /// <summary>Default capacity: well under any RLIMIT_NOFILE the daemon gets.</summary>
    public const int DefaultSize = 8192;

    private readonly ConcurrentQueue<Inode> _order = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Installs <paramref name="fd"/> as the inode's cached descriptor; false if another thread was first.</summary>
    public bool TryAdd(Inode inode, FileDescriptor fd)
    {
        if (capacity <= 0 || Interlocked.CompareExchange(ref inode.CachedFd, fd, null) is not null)
        {
            return false;
        }
        _order.Enqueue(inode);
        if (Interlocked.Increment(ref _count) > capacity && _order.TryDequeue(out var oldest))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Exchange(ref oldest.CachedFd, null)?.Dispose();
        }
        return true;
    }
}
