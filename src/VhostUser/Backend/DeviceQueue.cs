// DeviceQueue.cs — what a device sees of one queue: pop, complete, memory. Also the framework's
// per-queue run state (started, enabled, broken, the kick/call/err fds) and the processing loop
// that wraps VirtioDevice.ProcessQueue in the notification dance (design README 1.4).
//
// Threading: everything here runs on the queue's worker. The control thread changes state only
// through QueueWorker.Invoke.
//
// Failure policy (design README 1.6), decided here once: a VirtqueueException or
// GuestMemoryException raised while the queue is used is the guest's fault: it is logged, the
// err eventfd is signalled, and the queue is broken until the front end restarts it. A call fd
// whose write fails is the front end's fault and breaks the queue the same way. Other queues go
// on; nothing here ends the process.
using Microsoft.Extensions.Logging;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Backend;

/// <summary>A queue as a device sees it.</summary>
public sealed class DeviceQueue
{
    private readonly VirtioDevice _device;
    private readonly ILogger _logger;
    private EventFd? _kick;
    private EventFd? _call;
    private EventFd? _err;
    private bool _notifyPending;
    private bool _stopping;
    private long _popCount;

    internal DeviceQueue(int index, QueueWorker worker, VirtioDevice device, ILogger logger)
    {
        Index = index;
        Worker = worker;
        _device = device;
        _logger = logger;
        Virtqueue = new Virtqueue(index);
    }

    /// <summary>Queue index within the device.</summary>
    public int Index { get; }

    /// <summary>The worker that serves this queue.</summary>
    public QueueWorker Worker { get; }

    /// <summary>The ring state (for devices that need more than pop and complete).</summary>
    public Virtqueue Virtqueue { get; }

    /// <summary>Current guest memory.</summary>
    public GuestMemory Memory => Virtqueue.Memory;

    /// <summary>True while the ring is started (SET_VRING_KICK until GET_VRING_BASE).</summary>
    public bool IsStarted { get; private set; }

    /// <summary>True while the ring is enabled (SET_VRING_ENABLE).</summary>
    public bool IsEnabled { get; private set; }

    /// <summary>True after a guest fault, until the ring is restarted.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>True if chains may be popped: started, enabled, not broken, not stopping.</summary>
    public bool IsReady => IsStarted && IsEnabled && !IsBroken && !_stopping;

    /// <summary>Chains popped and not completed.</summary>
    public int InFlightCount => Virtqueue.InFlightCount;

    /// <summary>
    /// Takes the next available chain. Returns false if there is none, or if the queue is not
    /// ready or the ring is malformed (the queue is then broken and the fault logged).
    /// </summary>
    public bool TryPop(out DescriptorChain chain)
    {
        if (!IsReady)
        {
            chain = default;
            return false;
        }
        try
        {
            if (Virtqueue.TryPop(out chain))
            {
                _popCount++;
                return true;
            }
            return false;
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Break(e);
            chain = default;
            return false;
        }
    }

    /// <summary>
    /// Returns <paramref name="chain"/> to the driver with <paramref name="bytesWritten"/> bytes
    /// written. The call fd is signalled (if the driver wants it) when the worker finishes the
    /// current batch.
    /// </summary>
    /// <remarks>
    /// A chain popped before the ring last stopped (the drain timed out, or the connection left
    /// it to the inflight area) is dropped with a log line: its ring is gone, and the ring that
    /// runs now must not see it. On a broken ring the chain is only forgotten (nothing is written
    /// there any more), so that GET_VRING_BASE, which waits for chains in flight, does not wait
    /// for it.
    /// </remarks>
    public void Complete(in DescriptorChain chain, uint bytesWritten)
    {
        if (!Virtqueue.IsCurrent(chain))
        {
            Log.StaleCompletion(_logger, Index, chain.Id);
            return;
        }
        try
        {
            if (IsBroken)
            {
                Virtqueue.Discard(chain);
                return;
            }
            Virtqueue.AddUsed(chain, bytesWritten);
            _notifyPending = true;
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Break(e);
        }
    }

    /// <summary>Signals the call fd now if completions are pending and the driver wants it.</summary>
    public void FlushNotification()
    {
        if (!_notifyPending || !IsStarted || IsBroken)
        {
            return;
        }
        _notifyPending = false;
        try
        {
            if (Virtqueue.NeedsNotification())
            {
                SignalCall();
            }
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Break(e);
        }
    }

    /// <summary>Processes the ring now, as if the driver had kicked (on the worker).</summary>
    public void Process()
    {
        if (!IsReady)
        {
            return;
        }
        try
        {
            while (true)
            {
                Virtqueue.DisableNotification();
                long before = _popCount;
                _device.ProcessQueue(this);
                // Re-enable, then re-check: buffers added in between would otherwise wait for a
                // kick that the driver never sends. Stop if the device left buffers on purpose.
                if (!IsReady || !Virtqueue.EnableNotification() || _popCount == before)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Break(e);
        }
    }

    internal void OnKick()
    {
        _kick?.Drain();
        Process();
        FlushNotification();
    }

    internal void Start(VirtqueueLayout layout, VirtioFeatures features, uint ringBase, GuestMemory memory, EventFd kick, InflightQueue? inflight = null)
    {
        IsBroken = false;
        _stopping = false;
        _notifyPending = false;
        Virtqueue.Configure(layout, features);
        Virtqueue.SetBase(ringBase);
        Virtqueue.AttachInflight(inflight);
        Virtqueue.Start(memory);
        _kick = kick;
        Worker.AddKick(this, kick);
        IsStarted = true;
        Log.QueueStarted(_logger, Index, layout.Size, Virtqueue.IsPacked ? "packed" : "split", ringBase);
        if (Virtqueue.LastRecovery is { } recovery)
        {
            Log.InflightRecovered(_logger, Index, recovery.ToString(), Virtqueue.ResubmitCount);
        }
        _device.OnQueueStarted(this);
        Process();
        FlushNotification();
    }

    /// <summary>
    /// First half of a stop: the device stops taking chains; true if held chains may be rewound.
    /// A broken ring is told too: the device must drop what it holds (rng's pending buffer and
    /// its source watch), or it would keep chains of a ring that is about to be restarted.
    /// </summary>
    internal bool BeginStop()
    {
        _stopping = true;
        return IsStarted && _device.OnQueueStopping(this);
    }

    /// <summary>
    /// Second half: gives back held chains if allowed, stops the ring, returns its base.
    /// <paramref name="abandon"/>: chains still under I/O are left to the inflight area.
    /// </summary>
    internal uint FinishStop(bool rewind, bool abandon = false)
    {
        if (IsStarted)
        {
            FlushNotification();
            int count = Virtqueue.InFlightCount + Virtqueue.ResubmitPending;
            if (count > 0 && abandon && !rewind)
            {
                Log.InflightAbandoned(_logger, Index, count);
            }
            else if (Virtqueue.InFlightCount > 0 && (!rewind || Virtqueue.RewindInFlight() < 0))
            {
                Log.RewindFailed(_logger, Index, Virtqueue.InFlightCount);
            }
        }
        uint ringBase = Virtqueue.GetBase();
        if (_kick is not null)
        {
            Worker.RemoveKick(_kick);
            _kick.Dispose();
            _kick = null;
        }
        Virtqueue.Stop();
        IsStarted = false;
        _stopping = false;
        Log.QueueStopped(_logger, Index, ringBase);
        return ringBase;
    }

    internal void SetEnabled(bool enabled)
    {
        IsEnabled = enabled;
        if (enabled)
        {
            Process();
            FlushNotification();
        }
    }

    /// <summary>
    /// Installs a new call fd and returns the old one. On a running ring the new fd is signalled
    /// first — the driver may have missed a completion while its interrupt was re-routed (QEMU
    /// does the same on SET_VRING_CALL) — and if that write fails the IOException leaves the old
    /// fd installed: the request is refused and the caller closes the new one.
    /// </summary>
    internal EventFd? SwapCall(EventFd? call)
    {
        if (call is not null && IsStarted && !IsBroken)
        {
            call.Signal();
        }
        var old = _call;
        _call = call;
        return old;
    }

    internal EventFd? SwapErr(EventFd? err)
    {
        var old = _err;
        _err = err;
        return old;
    }

    internal void UpdateMemory(GuestMemory memory)
    {
        try
        {
            Virtqueue.UpdateMemory(memory);
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Break(e);
        }
    }

    /// <summary>Forgets everything (disconnect or device reset); the queue must be stopped.</summary>
    internal void Reset()
    {
        _call?.Dispose();
        _call = null;
        _err?.Dispose();
        _err = null;
        IsEnabled = false;
        IsBroken = false;
        _notifyPending = false;
        Virtqueue.Reset();
    }

    private void Break(Exception e)
    {
        IsBroken = true;
        string code = e is VirtqueueException ve ? ve.Error.ToString() : ((GuestMemoryException)e).Error.ToString();
        Log.QueueBroken(_logger, Index, code, e.Message);
        SignalErr();
    }

    /// <summary>
    /// Signals the call fd. A write to an eventfd cannot fail, so a failure means the front end
    /// sent something else (a fd that passed the checks at SET_VRING_CALL but is no eventfd): the
    /// queue is broken until the front end restarts it, the daemon goes on.
    /// </summary>
    private void SignalCall()
    {
        try
        {
            _call?.Signal();
        }
        catch (IOException e)
        {
            IsBroken = true;
            Log.NotifierFailed(_logger, Index, "call", e.Message, "the queue is broken until the front end restarts it");
            SignalErr();
        }
    }

    /// <summary>Signals the err fd; a failure (not an eventfd) is logged and the fd dropped.</summary>
    private void SignalErr()
    {
        try
        {
            _err?.Signal();
        }
        catch (IOException e)
        {
            Log.NotifierFailed(_logger, Index, "err", e.Message, "the err fd is dropped");
            _err?.Dispose();
            _err = null;
        }
    }
}
