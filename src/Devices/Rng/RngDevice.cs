// RngDevice.cs — the virtio entropy device (virtio spec 5.4; devices.md §9): one request queue
// of device-writable buffers, each filled with bytes from the entropy source. An optional
// rate limit (--max-bytes per --period) leaves buffers in the ring until the next window, woken
// by a timerfd on the queue worker. A source that would block (a FIFO, /dev/hwrng) is watched
// with epoll instead of blocking the worker.
using VhostUser.Backend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Rng;

/// <summary>virtio-rng over vhost-user.</summary>
internal sealed class RngDevice : VirtioDevice, IDisposable
{
    private const int ReadChunk = 1 << 20;

    private readonly FileDescriptor _source;
    private readonly string _sourcePath;
    private readonly RateLimiter _limiter;
    private readonly TimerFd _timer = TimerFd.Create();
    private IDisposable? _timerWatch;
    private IDisposable? _sourceWatch;
    private bool _timerArmed;
    private DescriptorChain _pending;
    private bool _warnedEndOfFile;

    /// <summary>Opens the source; throws <see cref="DaemonOptionsException"/> if it cannot be read.</summary>
    public RngDevice(RngOptions options)
        : this(options, OpenSource(options.Source), new RateLimiter(options.Period, options.MaxBytes))
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
            return; // a buffer is waiting for the source to become readable
        }
        while (true)
        {
            long budget = _limiter.Available();
            if (budget <= 0)
            {
                ArmTimer();
                return;
            }
            if (!queue.TryPop(out var chain))
            {
                return;
            }
            if (!TryFill(queue, chain, budget))
            {
                _pending = chain;
                WatchSource(queue);
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
    /// completes it. Returns false if the source had nothing yet (the chain is then held).
    /// </summary>
    private bool TryFill(DeviceQueue queue, in DescriptorChain chain, long budget)
    {
        var writer = chain.CreateWriter();
        long want = Math.Min(writer.Remaining, budget);
        while (writer.BytesWritten < want)
        {
            var span = writer.GetSpan((int)Math.Min(want - writer.BytesWritten, ReadChunk));
            if (!_source.TryRead(span, out int read))
            {
                if (writer.BytesWritten == 0)
                {
                    return false;
                }
                break; // some entropy now is better than all of it later
            }
            if (read == 0 && !HandleEndOfFile())
            {
                if (writer.BytesWritten == 0)
                {
                    return false;
                }
                break;
            }
            writer.Advance((uint)read);
        }
        _limiter.Consume(writer.BytesWritten);
        queue.Complete(chain, writer.BytesWritten);
        return true;
    }

    /// <summary>A regular file as source is read round and round; a closed FIFO is an error.</summary>
    private bool HandleEndOfFile()
    {
        if (_source.Rewind())
        {
            if (!_warnedEndOfFile)
            {
                _warnedEndOfFile = true;
                Log.SourceRewound(Context.Logger, _sourcePath);
            }
            return true;
        }
        Log.SourceEnded(Context.Logger, _sourcePath);
        return false;
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
        var chain = _pending;
        if (!chain.IsValid)
        {
            StopWatchingSource();
            return;
        }
        if (TryFill(queue, chain, Math.Max(_limiter.Available(), 0)))
        {
            _pending = default;
            StopWatchingSource();
            queue.Process();
        }
    }

    private void StopWatchingSource()
    {
        _sourceWatch?.Dispose();
        _sourceWatch = null;
    }

    private void ArmTimer()
    {
        if (!_timerArmed)
        {
            _timerArmed = true;
            _timer.Arm(_limiter.UntilNextWindow());
        }
    }

    private void OnTimer()
    {
        _timer.Drain();
        _timerArmed = false;
        Context.Queues[0].Process();
    }

    private static FileDescriptor OpenSource(string path)
    {
        try
        {
            return FileDescriptor.OpenRead(path, nonBlocking: true);
        }
        catch (IOException e)
        {
            throw new DaemonOptionsException($"--rng-source: {e.Message}");
        }
    }
}
