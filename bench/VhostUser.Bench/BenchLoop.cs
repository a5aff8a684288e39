// BenchLoop.cs — keeps --queue-depth requests in flight on every queue from one thread, the way a
// guest driver with interrupts does: offer, kick if the device asks for kicks, take used buffers
// back and offer a new request for each; when nothing is ready, re-enable used-buffer
// notifications, look once more, then sleep on the call eventfds (epoll) and disable them again
// while processing (Linux virtblk_done's shape).
//
// Timing: a request's round trip runs from just after Offer (the ring write) to the moment its used
// element is taken back, so it includes the kick, the back end's wake-up and work, the call and
// this thread's wake-up. The first --warmup seconds are not counted; requests completed in the
// --duration window after it are; the ones still in flight then are drained, not counted.
using System.Diagnostics;
using VhostUser.Unix;

namespace VhostUser.Bench;

/// <summary>The request loop of one run.</summary>
internal sealed class BenchLoop(BenchOptions options, RequestFormat format, IReadOnlyList<BenchQueue> queues)
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    private readonly LatencySamples _latency = new();
    private bool _offering = true;
    private bool _measuring;
    private long _requests;
    private long _bytes;
    private long _errors;
    private long _lastProgress;

    /// <summary>Runs warm-up and measurement; <paramref name="daemonPid"/> adds the daemon's CPU time.</summary>
    public BenchResult Run(int? daemonPid)
    {
        using var epoll = Epoll.Create();
        foreach (var queue in queues)
        {
            epoll.Add(queue.Call.Descriptor, EpollEvents.In, (ulong)queue.Index);
        }
        long start = Stopwatch.GetTimestamp();
        long measureStart = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        long measureEnd = measureStart + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        _lastProgress = start;
        foreach (var queue in queues)
        {
            for (int i = 0; i < options.QueueDepth; i++)
            {
                queue.Offer(format);
            }
            queue.KickIfNeeded();
        }
        var cpuStart = (Bench: default(TimeSpan?), Daemon: default(TimeSpan?));
        int gcStart = 0;
        long now = start;
        while (now < measureEnd)
        {
            if (!_measuring && now >= measureStart)
            {
                _measuring = true;
                cpuStart = (ProcessCpuClock.Read(Environment.ProcessId), daemonPid is { } pid ? ProcessCpuClock.Read(pid) : null);
                gcStart = GC.CollectionCount(0);
                measureStart = now;
            }
            if (Pump() == 0)
            {
                Sleep(epoll);
            }
            now = Stopwatch.GetTimestamp();
        }
        _measuring = false;
        int collections = GC.CollectionCount(0) - gcStart;
        var cpuEnd = (Bench: ProcessCpuClock.Read(Environment.ProcessId), Daemon: daemonPid is { } p ? ProcessCpuClock.Read(p) : null);
        var elapsed = Stopwatch.GetElapsedTime(measureStart, now);
        Drain(epoll);
        return new BenchResult(options.Describe(), _requests, _bytes, _errors, elapsed, _latency.SortedMicroseconds(),
            cpuEnd.Bench - cpuStart.Bench, cpuEnd.Daemon - cpuStart.Daemon, collections, format.Remarks);
    }

    /// <summary>Takes back every used request on every queue, offering a new one for each.</summary>
    private int Pump()
    {
        int total = 0;
        foreach (var queue in queues)
        {
            int taken = 0;
            while (queue.TryTakeUsed(out var used, out long offeredAt))
            {
                long now = Stopwatch.GetTimestamp();
                long bytes = format.Complete(queue.Driver, used);
                if (_measuring)
                {
                    _latency.Add(now - offeredAt);
                    _requests++;
                    if (bytes < 0)
                    {
                        _errors++;
                    }
                    else
                    {
                        _bytes += bytes;
                    }
                }
                if (_offering)
                {
                    queue.Offer(format);
                }
                taken++;
            }
            if (taken > 0)
            {
                queue.KickIfNeeded();
                total += taken;
            }
        }
        if (total > 0)
        {
            _lastProgress = Stopwatch.GetTimestamp();
        }
        return total;
    }

    /// <summary>Nothing ready: ask for interrupts, look again, then wait on the call eventfds.</summary>
    private void Sleep(Epoll epoll)
    {
        foreach (var queue in queues)
        {
            queue.Driver.EnableInterrupts();
        }
        if (Pump() == 0)
        {
            Span<EpollEvent> events = stackalloc EpollEvent[Math.Min(queues.Count, 64)];
            int count = epoll.Wait(events, 1000);
            for (int i = 0; i < count; i++)
            {
                queues[(int)events[i].Token].Call.Drain();
            }
            if (count == 0 && Stopwatch.GetElapsedTime(_lastProgress) > StallLimit)
            {
                int inFlight = queues.Sum(q => q.InFlight);
                throw new BenchFailedException($"no request completed for {StallLimit.TotalSeconds:0} s ({inFlight} in flight): the back end stalled");
            }
        }
        foreach (var queue in queues)
        {
            queue.Driver.DisableInterrupts();
        }
    }

    /// <summary>Stops offering and waits for the requests still in flight.</summary>
    private void Drain(Epoll epoll)
    {
        _offering = false;
        _lastProgress = Stopwatch.GetTimestamp();
        while (queues.Any(q => q.InFlight > 0))
        {
            if (Pump() == 0)
            {
                Sleep(epoll);
            }
        }
    }
}
