// RngDevice.cs — the virtio entropy device (virtio spec 5.4; devices.md §9): one request queue
// of device-writable buffers, each filled with bytes from the entropy source. An optional
// rate limit (--max-bytes per --period) leaves buffers in the ring until the next window, woken
// by a timerfd on the queue worker. A source that would block (a FIFO, /dev/hwrng) is watched
// with epoll instead of blocking the worker. A source that fails (EIO from /dev/hwrng, a FIFO
// whose writer left, a file emptied) is logged once and the buffer waits for a retry on the same
// timer: never a crash, never a spin. Directories and empty files are refused at start.
using VhostUser.Backend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Rng;

/// <summary>virtio-rng over vhost-user.</summary>
internal sealed class RngDevice : VirtioDevice, IDisposable
{
    private const int ReadChunk = 1 << 20;

    /// <summary>How long a buffer waits before a failed source is read again.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly FileDescriptor _source;
    private readonly string _sourcePath;
    private readonly RateLimiter _limiter;
    private readonly TimerFd _timer = TimerFd.Create();
    private IDisposable? _timerWatch;
    private IDisposable? _sourceWatch;
    private bool _timerArmed;
    private DescriptorChain _pending;
    private bool _warnedEndOfFile;
    private bool _failing;

    /// <summary>Opens the source; throws <see cref="DaemonOptionsException"/> if it cannot be read.</summary>
    public RngDevice(RngOptions options)
        : this(options, OpenSource(options.Source), new RateLimiter(options.Period, options.MaxBytesPerSocket))
    {
    }

    internal RngDevice(RngOptions options, FileDescriptor source, RateLimiter limiter)
    {
        _sourcePath = options.Source;
        _source = source;
        _limiter = limiter;
    }

    public override VirtioDeviceType DeviceType => VirtioDeviceType.Rng;

    public override int QueueCount => 1;

    public override VirtioFeatures DeviceFeatures => VirtioFeatures.None;

    public override void ProcessQueue(DeviceQueue queue)
    {
        if (_pending.IsValid)
        {
            return; // a buffer is waiting for the source (readable again, or the retry timer)
        }
        while (true)
        {
            long budget = _limiter.Available();
            if (budget <= 0)
            {
                ArmTimer(_limiter.UntilNextWindow());
                return;
            }
            if (!queue.TryPop(out var chain))
            {
                return;
            }
            var result = TryFill(queue, chain, budget);
            if (result != Fill.Completed)
            {
                Hold(queue, chain, result);
                return;
            }
        }
    }

    public override bool OnQueueStopping(DeviceQueue queue)
    {
        // The only chain we may hold is one waiting for the source: drop it, the driver gets it back.
        _pending = default;
        StopWatchingSource();
        return true;
    }

    public override void Reset()
    {
        var worker = Context.Workers[0];
        worker.Invoke(() =>
        {
            _pending = default;
            StopWatchingSource();
            _timer.Disarm();
            _timerArmed = false;
        });
    }

    public void Dispose()
    {
        _timerWatch?.Dispose();
        _sourceWatch?.Dispose();
        _timer.Dispose();
        _source.Dispose();
    }

    protected override void OnAttached() =>
        _timerWatch = Context.Watch(_timer.Descriptor, EpollEvents.In, _ => OnTimer());

    /// <summary>
    /// Fills the chain's writable buffers straight from the source, up to the budget, and
    /// completes it — with what there is if the source failed part way. Returns
    /// <see cref="Fill.WouldBlock"/> if the source had nothing yet, or <see cref="Fill.Failed"/> if
    /// it failed before the first byte; the chain is not completed then.
    /// </summary>
    private Fill TryFill(DeviceQueue queue, in DescriptorChain chain, long budget)
    {
        var writer = chain.CreateWriter();
        long want = Math.Min(writer.Remaining, budget);
        bool rewound = false;
        string? failure = null;
        while (writer.BytesWritten < want)
        {
            var span = writer.GetSpan((int)Math.Min(want - writer.BytesWritten, ReadChunk));
            int read;
            try
            {
                if (!_source.TryRead(span, out read))
                {
                    if (writer.BytesWritten == 0)
                    {
                        return Fill.WouldBlock;
                    }
                    break; // some entropy now is better than all of it later
                }
            }
            catch (IOException e)
            {
                failure = e.Message; // EIO from a hardware RNG, a file gone bad
                break;
            }
            if (read == 0)
            {
                // A regular file is read round and round; a second end of file without data in
                // between means it is empty now, and a FIFO whose writer left cannot rewind.
                if (rewound || !_source.Rewind())
                {
                    failure = rewound ? "the file is empty" : "end of file (the writer closed it)";
                    break;
                }
                rewound = true;
                WarnRewound();
                continue;
            }
            rewound = false;
            writer.Advance((uint)read);
        }
        if (failure is not null)
        {
            ReportFailure(failure);
            if (writer.BytesWritten == 0)
            {
                return Fill.Failed;
            }
        }
        else
        {
            ReportRecovered();
        }
        _limiter.Consume(writer.BytesWritten);
        queue.Complete(chain, writer.BytesWritten);
        return Fill.Completed;
    }

    /// <summary>Keeps a chain the source could not fill: until it is readable, or until the retry timer.</summary>
    private void Hold(DeviceQueue queue, in DescriptorChain chain, Fill result)
    {
        _pending = chain;
        if (result == Fill.WouldBlock)
        {
            WatchSource(queue);
        }
        else
        {
            // Not the source watch: a failed or closed source may be "readable" (EPOLLERR,
            // EPOLLHUP) all the time, and serving it from there would spin.
            StopWatchingSource();
            ArmTimer(RetryDelay);
        }
    }

    /// <summary>Tries the held chain again (the source became readable, or the timer fired).</summary>
    private void RetryPending(DeviceQueue queue)
    {
        var chain = _pending;
        long budget = _limiter.Available();
        if (budget <= 0)
        {
            StopWatchingSource();
            ArmTimer(_limiter.UntilNextWindow());
            return;
        }
        var result = TryFill(queue, chain, budget);
        if (result != Fill.Completed)
        {
            Hold(queue, chain, result);
            return;
        }
        _pending = default;
        StopWatchingSource();
        queue.Process();
    }

    private void WarnRewound()
    {
        if (!_warnedEndOfFile)
        {
            _warnedEndOfFile = true;
            Log.SourceRewound(Context.Logger, _sourcePath);
        }
    }

    /// <summary>Logs the first failure of a run of them (retries come every RetryDelay).</summary>
    private void ReportFailure(string reason)
    {
        if (!_failing)
        {
            _failing = true;
            Log.SourceFailed(Context.Logger, _sourcePath, reason, RetryDelay.TotalSeconds);
        }
    }

    private void ReportRecovered()
    {
        if (_failing)
        {
            _failing = false;
            Log.SourceRecovered(Context.Logger, _sourcePath);
        }
    }

    private void WatchSource(DeviceQueue queue)
    {
        if (_sourceWatch is null && !_source.IsClosed)
        {
            _sourceWatch = Context.Watch(_source, EpollEvents.In, _ => OnSourceReadable(queue));
        }
    }

    private void OnSourceReadable(DeviceQueue queue)
    {
        if (!_pending.IsValid)
        {
            StopWatchingSource();
            return;
        }
        RetryPending(queue);
    }

    private void StopWatchingSource()
    {
        _sourceWatch?.Dispose();
        _sourceWatch = null;
    }

    private void ArmTimer(TimeSpan delay)
    {
        if (!_timerArmed)
        {
            _timerArmed = true;
            _timer.Arm(delay);
        }
    }

    /// <summary>The next rate-limit window opened, or a failed source is due for another try.</summary>
    private void OnTimer()
    {
        _timer.Drain();
        _timerArmed = false;
        var queue = Context.Queues[0];
        if (_pending.IsValid)
        {
            RetryPending(queue);
        }
        else
        {
            queue.Process();
        }
    }

    /// <summary>
    /// Opens the source and refuses what can never serve entropy: a directory (every read fails
    /// with EISDIR) and an empty regular file (read round and round, it never yields a byte).
    /// </summary>
    internal static FileDescriptor OpenSource(string path)
    {
        FileDescriptor fd;
        try
        {
            fd = FileDescriptor.OpenRead(path, nonBlocking: true);
        }
        catch (IOException e)
        {
            throw new DaemonOptionsException($"--rng-source: {e.Message}");
        }
        try
        {
            string? problem = fd.GetKind() switch
            {
                FileKind.Directory => "is a directory",
                FileKind.Regular when fd.GetFileSize() == 0 => "is an empty file",
                _ => null,
            };
            if (problem is not null)
            {
                throw new DaemonOptionsException($"--rng-source {path} {problem}; give a character device (/dev/urandom, /dev/hwrng), a FIFO or a non-empty file");
            }
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>What became of one attempt to fill a chain.</summary>
    private enum Fill
    {
        Completed,
        WouldBlock,
        Failed,
    }
}
