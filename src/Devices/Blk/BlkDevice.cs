// BlkDevice.cs — the virtio block device (virtio spec 5.2; devices.md §3) over vhost-user: feature
// bits, config space, one worker and one I/O engine per request queue (BlkQueueRunner), crash-
// safe reconnect through the framework's inflight tracking, and online resize. The vhost-user
// glue stays here; request parsing is BlkRequest, the I/O engines are in Engines/.
//
// Threading: ProcessQueue and completions run on each queue's worker; config access, Reset and
// Resize on other threads (control thread, signal handler), touching only BlkConfig's atomic
// fields or going through QueueWorker.Invoke.
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Devices.Blk.Engines;
using VhostUser.Protocol;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Blk;

/// <summary>virtio-blk over vhost-user.</summary>
internal sealed class BlkDevice : VirtioDevice, IDisposable
{
    private const int ZeroBufferSize = 1 << 20;

    private readonly BlockFile? _file;
    private readonly BlockFile? _buffered;
    private readonly IoThreadPool? _pool;
    private readonly List<IDisposable> _watches = [];
    private BlkQueueRunner[] _runners = [];
    private long _capacityKnownToFrontEnd = -1;

    /// <summary>Opens the backing; throws <see cref="DaemonOptionsException"/> if it cannot be used.</summary>
    public BlkDevice(BlkOptions options)
    {
        Options = options;
        Serial = BlkRequest.SerialBytes(options.Serial);
        long size = options.NullSize;
        if (options.Path is { } path)
        {
            (_file, _buffered) = OpenBacking(path, options);
            size = _file.GetSize();
        }
        Config = new BlkConfig(options, size) { DiscardsBlockDevice = _file?.IsBlockDevice == true };
        if (options.Engine == IoEngineKind.Threads && _file is not null)
        {
            _pool = new IoThreadPool(options.IoThreads);
        }
    }

    public BlkOptions Options { get; }

    public BlkConfig Config { get; }

    public byte[] Serial { get; }

    /// <summary>A read-only mapping of zeroes (WRITE_ZEROES where fallocate cannot zero).</summary>
    public MappedRegion ZeroBuffer { get; } = MappedRegion.MapAnonymous(ZeroBufferSize);

    /// <summary>True when an O_DIRECT transfer the kernel refuses can be redone through a buffered descriptor.</summary>
    public bool HasBufferedFallback => _buffered is not null;

    /// <summary>Writes must be durable at completion: the driver chose write-through, or never negotiated FLUSH.</summary>
    public bool WriteThrough => !Config.WriteBack || (AckedFeatures & BlkFeatures.Flush) == 0;

    public ILogger Logger => Context.Logger;

    /// <summary>fdatasyncs issued to make fallocate-based write-zeroes durable (all queues).</summary>
    public long DurabilitySyncs => _runners.Sum(r => r.DurabilitySyncs);

    /// <summary>DISCARDs done as block-device discards (BLKDISCARD / io_uring discard command), all queues.</summary>
    public long BlockDiscards => _runners.Sum(r => r.BlockDiscards);

    public override VirtioDeviceType DeviceType => VirtioDeviceType.Block;

    public override int QueueCount => Options.QueueCount;

    public override VirtioFeatures DeviceFeatures =>
        BlkFeatures.SizeMax | BlkFeatures.SegMax | BlkFeatures.BlkSize | BlkFeatures.Flush | BlkFeatures.Topology
        | BlkFeatures.ConfigWce | BlkFeatures.Mq
        | (Options.ReadOnly ? BlkFeatures.ReadOnly : BlkFeatures.Discard | BlkFeatures.WriteZeroes);

    public override int MaxQueueSize => Options.QueueSize;

    public override int ConfigSize => BlkConfig.Size;

    /// <summary>Inflight tracking: a restarted daemon resubmits what a killed one had under I/O.</summary>
    public override ProtocolFeatures ExtraProtocolFeatures => ProtocolFeatures.InflightShmfd;

    /// <summary>Queue groups: queue i on worker i mod --workers (default: one per queue, at most one per CPU).</summary>
    public override int WorkerFor(int queueIndex) => queueIndex % Options.Workers;

    public override void ProcessQueue(DeviceQueue queue) => _runners[queue.Index].Process(queue);

    /// <summary>The cache mode (1 byte) outlives the daemon: QEMU sends SET_CONFIG once and keeps its own copy.</summary>
    public override int CrashSafeStateSize => 1;

    public override void ReadConfig(int offset, Span<byte> destination)
    {
        if (offset < sizeof(ulong))
        {
            // The front end now knows this capacity (QEMU reads the config at realize and after
            // each config-change message, never on a reconnect).
            Volatile.Write(ref _capacityKnownToFrontEnd, Config.CapacitySectors);
        }
        Config.Read(offset, destination);
    }

    public override bool WriteConfig(int offset, ReadOnlySpan<byte> source)
    {
        if (!Config.TryWrite(offset, source))
        {
            return false;
        }
        Log.CacheMode(Logger, Config.WriteBack ? "write back" : "write through");
        Context.CrashSafeStateChanged();
        return true;
    }

    public override void SaveCrashSafeState(Span<byte> destination) => destination[0] = Config.WriteBack ? (byte)1 : (byte)0;

    public override void RestoreCrashSafeState(ReadOnlySpan<byte> state)
    {
        Config.SetWriteBack(state[0] != 0);
        Log.CacheModeRestored(Logger, Config.WriteBack ? "write back" : "write through");
    }

    /// <summary>
    /// A front end that reconnected (or a restarted daemon's) may hold a capacity from before a
    /// resize it was not told about: the resize happened while no back-end channel was open, and
    /// QEMU does not re-read the config on reconnect. When the first ring starts with a capacity
    /// it may not know, tell it (QEMU re-reads and interrupts the guest only if the size differs).
    /// </summary>
    public override void OnQueueStarted(DeviceQueue queue)
    {
        if (queue.Index == 0 && Volatile.Read(ref _capacityKnownToFrontEnd) != Config.CapacitySectors && Context.NotifyConfigChanged())
        {
            Log.CapacityAnnounced(Logger, Config.CapacitySectors * 512);
        }
    }

    public override void Reset()
    {
        for (int i = 0; i < _runners.Length; i++)
        {
            var runner = _runners[i];
            long served = 0;
            Context.Workers[WorkerFor(i)].Invoke(() => served = runner.Abandon());
            if (served > 0)
            {
                Log.QueueServed(Logger, i, served);
            }
        }
        // The cache mode stays: QEMU keeps its copy of writeback across guest resets and
        // reconnects and never sends SET_CONFIG again, so resetting ours would have the guest
        // believe in write-through while writes were cached.
    }

    /// <summary>
    /// Re-reads the backing's size (SIGHUP) and, if it changed, tells the front end
    /// (BACKEND_CONFIG_CHANGE_MSG): QEMU re-reads the config and interrupts the guest, whose
    /// disk size changes without a reboot.
    /// </summary>
    public void Resize()
    {
        if (_file is null)
        {
            return;
        }
        long old = Config.CapacitySectors * 512;
        long size;
        try
        {
            size = _file.GetSize();
        }
        catch (IOException e)
        {
            Log.ResizeFailed(Logger, _file.Path, e.Message);
            return;
        }
        if (Config.SetCapacity(size))
        {
            Log.Resized(Logger, old, Config.CapacitySectors * 512, Context.NotifyConfigChanged());
        }
    }

    /// <summary>
    /// --poll-us: after a batch, the worker keeps polling all of its queues (rings and engines)
    /// until <paramref name="ticks"/> pass without any activity, then goes back to epoll. Polling
    /// every queue of the worker, not just the one that started it, keeps a busy queue from
    /// starving its siblings. One call polls for at most max(1 ms, 10 × --poll-us).
    /// </summary>
    public void Poll(int worker, long ticks)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        long deadline = now + ticks;
        // Bounded, so that work the control thread posts to this worker (a memory-table change,
        // a ring stop) waits at most this long even under a never-ending stream of requests.
        long end = now + Math.Max(10 * ticks, System.Diagnostics.Stopwatch.Frequency / 1000);
        while ((now = System.Diagnostics.Stopwatch.GetTimestamp()) < deadline && now < end)
        {
            bool active = false;
            for (int i = worker; i < _runners.Length; i += Options.Workers)
            {
                active |= _runners[i].PollOnce();
            }
            if (active)
            {
                deadline = System.Diagnostics.Stopwatch.GetTimestamp() + ticks;
            }
            else
            {
                Thread.SpinWait(32);
            }
        }
    }

    public void Dispose()
    {
        foreach (var watch in _watches)
        {
            watch.Dispose();
        }
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }
        _pool?.Dispose();
        _file?.Dispose();
        _buffered?.Dispose();
        ZeroBuffer.Dispose();
    }

    protected override void OnAttached()
    {
        _runners = new BlkQueueRunner[QueueCount];
        for (int i = 0; i < QueueCount; i++)
        {
            var runner = new BlkQueueRunner(this, CreateEngine(), Options.QueueSize, Options.PollMicroseconds);
            _runners[i] = runner;
            if (runner.CompletionSignal is { } signal)
            {
                _watches.Add(Context.Watch(signal, EpollEvents.In, _ => runner.OnCompletionSignal(), WorkerFor(i)));
            }
        }
        Log.Serving(Logger, Options.Path ?? "null disk", Config.CapacitySectors * 512,
            (Options.ReadOnly ? "read-only" : "read-write") + (Options.Direct ? ", O_DIRECT" : ""),
            QueueCount, Options.QueueSize, Options.Workers, _file is null ? "null" : Options.Engine.ToString().ToLowerInvariant(), Options.Serial);
    }

    private IBlockEngine CreateEngine() => _file is null
        ? new NullEngine(Options.QueueSize)
        : _pool is not null
            ? new ThreadPoolEngine(_pool, _file, _buffered)
            : new UringEngine(_file, _buffered, Options.QueueSize);

    private static (BlockFile File, BlockFile? Buffered) OpenBacking(string path, BlkOptions options)
    {
        BlockFile? file = null;
        try
        {
            file = BlockFile.Open(path, options.ReadOnly, options.Direct);
            var buffered = options.Direct ? BlockFile.Open(path, options.ReadOnly, direct: false) : null;
            return (file, buffered);
        }
        catch (IOException e)
        {
            file?.Dispose();
            throw new DaemonOptionsException($"--blk-file: {e.Message}");
        }
    }
}
