// IoThreadPool.cs — the threads of the thread-pool engine: they take work items from one shared
// queue and run blocking preadv2 / pwritev2 / fdatasync / fallocate, then hand the result back to
// the engine of the queue that asked (ThreadPoolEngine.Complete). Shared by every queue of a
// device. Work items are structs in a ConcurrentQueue: after warm-up nothing is allocated.
using System.Collections.Concurrent;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk.Engines;

/// <summary>What an I/O thread does.</summary>
internal enum IoOperation : byte
{
    Read,
    Write,
    Flush,
    Allocate,
}

/// <summary>One blocking call for an I/O thread.</summary>
internal readonly record struct IoWorkItem(ThreadPoolEngine Engine, int Tag, IoOperation Operation, BlockFile File,
    IoVectorArray? Vectors, long Offset, long Length, int Flags);

internal sealed class IoThreadPool : IDisposable
{
    private readonly ConcurrentQueue<IoWorkItem> _work = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly Thread[] _threads;
    private volatile bool _stopping;

    public IoThreadPool(int threads)
    {
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"blk-io-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Queues items without waking anyone yet.</summary>
    public void Enqueue(in IoWorkItem item) => _work.Enqueue(item);

    /// <summary>Wakes up to <paramref name="count"/> threads for queued items.</summary>
    public void Wake(int count) => _available.Release(count);

    public void Dispose()
    {
        _stopping = true;
        _available.Release(_threads.Length);
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        _available.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            _available.Wait();
            if (_stopping)
            {
                return;
            }
            if (_work.TryDequeue(out var item))
            {
                item.Engine.Complete(item.Tag, Execute(item));
            }
        }
    }

    private static long Execute(in IoWorkItem item) => item.Operation switch
    {
        IoOperation.Read => item.File.ReadV(item.Vectors!, item.Offset),
        IoOperation.Write => item.File.WriteV(item.Vectors!, item.Offset, item.Flags),
        IoOperation.Flush => item.File.DataSync(),
        _ => item.File.Allocate(item.Flags, item.Offset, item.Length),
    };
}
