// FsDevice.cs — the virtio-fs device (virtio spec 5.11; devices.md §5): queue 0 is hiprio (FORGET,
// BATCH_FORGET, INTERRUPT), queues 1..N carry requests. Each queue has its own worker thread, so
// N request queues serve N requests at once and the hiprio queue is never stuck behind them.
// With --thread-pool-size the request queues hand their chains to a pool instead. SETLKW, which
// may wait for as long as another lock is held, goes to LockWaiter, which ends its waits when the
// queue stops. The config space (tag, num_request_queues) is offered only with --tag: QEMU's
// vhost-user-fs builds its own from its tag= property and masks CONFIG out.
using System.Buffers.Binary;
using VhostUser.Backend;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs;

/// <summary>virtio-fs over vhost-user.</summary>
internal sealed class FsDevice : VirtioDevice, IDisposable
{
    /// <summary>virtio_fs_config: tag[36] + num_request_queues (+ notify_buf_size, unused).</summary>
    private const int ConfigLength = 40;

    private readonly FsOptions _options;
    private readonly FuseServer _server;
    private readonly QueueEpochs _epochs;
    private readonly RequestPool _pool;
    private readonly LockWaiter _locks;

    public FsDevice(FsOptions options, IFileSystem fs)
    {
        _options = options;
        FileSystem = fs;
        _server = new FuseServer(fs);
        _epochs = new QueueEpochs(QueueCount);
        _pool = new RequestPool(_server, options.ThreadPoolSize, QueueCount, _epochs);
        _locks = new LockWaiter(_server, _epochs);
        _server.Interrupted = _locks.Interrupt;
    }

    /// <summary>SETLKW requests waiting for a lock (tests read it).</summary>
    public int WaitingLocks => _locks.Count;

    /// <summary>The file system served (tests read its counters).</summary>
    public IFileSystem FileSystem { get; }

    /// <summary>Stride between per-queue counters: one cache line each, so queues on different CPUs do not share one.</summary>
    private const int CounterStride = 8;

    private long[] _requests = [];

    /// <summary>Requests popped per queue since start (logged at session end; the multi-queue tests read them).</summary>
    public long[] RequestsPerQueue => Enumerable.Range(0, QueueCount).Select(q => Volatile.Read(ref _requests[q * CounterStride])).ToArray();

    public override VirtioDeviceType DeviceType => VirtioDeviceType.Fs;

    public override int QueueCount => 1 + _options.RequestQueues;

    public override VirtioFeatures DeviceFeatures => VirtioFeatures.None;

    public override int ConfigSize => _options.Tag is null ? 0 : ConfigLength;

    public override int WorkerFor(int queueIndex) => queueIndex;

    public override void ProcessQueue(DeviceQueue queue)
    {
        while (queue.TryPop(out var chain))
        {
            _requests[queue.Index * CounterStride]++; // only this queue's worker writes it
            if (FuseServer.IsLockWait(chain))
            {
                _locks.Start(queue, chain);
            }
            else if (queue.Index > 0 && _pool.HasThreads)
            {
                _pool.Submit(queue, chain);
            }
            else
            {
                queue.Complete(chain, _server.Handle(chain));
                // Tell the driver now rather than after the whole batch: it refills the ring while
                // we serve the next request (with EVENT_IDX this signals only when the driver asked).
                queue.FlushNotification();
            }
        }
    }

    public override void ReadConfig(int offset, Span<byte> destination)
    {
        Span<byte> config = stackalloc byte[ConfigLength];
        config.Clear();
        System.Text.Encoding.UTF8.GetBytes(_options.Tag ?? "", config[..FsOptions.MaxTagLength]);
        BinaryPrimitives.WriteUInt32LittleEndian(config[36..], (uint)_options.RequestQueues);
        destination.Clear();
        if (offset >= 0 && offset < ConfigLength)
        {
            var source = config[offset..];
            source[..Math.Min(source.Length, destination.Length)].CopyTo(destination);
        }
    }

    public override void OnQueueStarted(DeviceQueue queue) => _epochs.Started(queue.Index);

    public override bool OnQueueStopping(DeviceQueue queue)
    {
        // GET_VRING_BASE (stop, reset, disconnect): no SETLKW may keep the ring from draining, nor
        // be answered on whatever ring comes next. Chains at the pool are waited for (false).
        _locks.CancelQueue(queue);
        return false;
    }

    public override void Reset()
    {
        // The front end went away or reset the device: the guest's view of the files is gone.
        Log.SessionEnded(Context.Logger, string.Join(' ', RequestsPerQueue.Select((n, i) => $"q{i}={n}")));
        _locks.Clear();
        _server.EndSession();
    }

    public void Dispose()
    {
        _locks.Dispose();
        _pool.Dispose();
        (FileSystem as IDisposable)?.Dispose();
    }

    protected override void OnAttached()
    {
        _requests = new long[QueueCount * CounterStride];
        _pool.Attach(Context, WorkerFor);
    }
}
