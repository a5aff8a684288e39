// VirtioDevice.cs — the base class a device author derives from (design README 1.4). The
// framework owns everything every device would otherwise repeat: ring feature bits, protocol
// features, config advertisement, memory updates, kick/call fds, notification suppression and
// the EVENT_IDX re-check loop, worker threads and shutdown. A device pops chains, reads and
// writes them, and completes them.
//
// Threading: ProcessQueue, OnQueueStarted, OnQueueStopping and callbacks registered through
// DeviceContext run on the queue's worker thread. ReadConfig, WriteConfig, OnFeaturesNegotiated
// and Reset run on the connection's control thread: Reset only while every queue is stopped,
// config access possibly while queues run, so a device whose config changes at run time (blk
// resize) guards that state itself.
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Backend;

/// <summary>A virtio device served over vhost-user.</summary>
public abstract class VirtioDevice
{
    private DeviceContext? _context;

    /// <summary>The virtio device ID.</summary>
    public abstract VirtioDeviceType DeviceType { get; }

    /// <summary>Number of queues the device offers (GET_QUEUE_NUM).</summary>
    public abstract int QueueCount { get; }

    /// <summary>
    /// Device-specific feature bits only. The framework adds VERSION_1, INDIRECT_DESC,
    /// EVENT_IDX, NOTIFY_ON_EMPTY, RING_PACKED (unless <see cref="SupportsPackedRing"/> is
    /// false) and PROTOCOL_FEATURES.
    /// </summary>
    public abstract VirtioFeatures DeviceFeatures { get; }

    /// <summary>Largest queue size accepted in SET_VRING_NUM.</summary>
    public virtual int MaxQueueSize => 1024;

    /// <summary>Config space size; when non-zero the framework offers the CONFIG protocol feature.</summary>
    public virtual int ConfigSize => 0;

    /// <summary>True if the device works with packed rings (the default).</summary>
    public virtual bool SupportsPackedRing => true;

    /// <summary>Protocol features the device implements on top of the framework's (e.g. INFLIGHT_SHMFD).</summary>
    public virtual ProtocolFeatures ExtraProtocolFeatures => ProtocolFeatures.None;

    /// <summary>
    /// Bytes of device state (at most <see cref="MaxCrashSafeStateSize"/>) that must outlive the
    /// daemon itself: something the driver chose that the front end will not send again to a
    /// restarted back end (blk's cache mode). Kept beside the inflight area (INFLIGHT_SHMFD, which
    /// the device must also offer), which the front end holds across our death and hands to the
    /// next back end. 0 (the default): none.
    /// </summary>
    public virtual int CrashSafeStateSize => 0;

    /// <summary>Largest <see cref="CrashSafeStateSize"/>.</summary>
    public const int MaxCrashSafeStateSize = 56;

    /// <summary>Writes the current crash-safe state (control thread: a fresh area was set, or the device called DeviceContext.CrashSafeStateChanged).</summary>
    public virtual void SaveCrashSafeState(Span<byte> destination)
    {
    }

    /// <summary>The front end handed over an area holding state an earlier back end saved (control thread, every ring stopped).</summary>
    public virtual void RestoreCrashSafeState(ReadOnlySpan<byte> state)
    {
    }

    /// <summary>The framework services for this device; set before the first connection.</summary>
    protected DeviceContext Context => _context ?? throw new InvalidOperationException("the device is not attached to a daemon");

    /// <summary>Features acknowledged by the driver (without the vhost-user bit 30).</summary>
    public VirtioFeatures AckedFeatures { get; internal set; }

    /// <summary>Handles the buffers the driver made available on <paramref name="queue"/>.</summary>
    /// <remarks>
    /// A request/response device loops: <c>while (queue.TryPop(out var chain)) { …; queue.Complete(chain, written); }</c>.
    /// The framework disables notifications around the call, re-checks the ring afterwards and
    /// signals the call fd once if needed.
    /// </remarks>
    public abstract void ProcessQueue(DeviceQueue queue);

    /// <summary>Which worker thread serves <paramref name="queueIndex"/> (default: one for all).</summary>
    public virtual int WorkerFor(int queueIndex) => 0;

    /// <summary>Reads config space bytes [offset, offset+destination.Length).</summary>
    public virtual void ReadConfig(int offset, Span<byte> destination) => destination.Clear();

    /// <summary>Writes config space bytes; return false to refuse (read-only fields).</summary>
    public virtual bool WriteConfig(int offset, ReadOnlySpan<byte> source) => false;

    /// <summary>Called after SET_FEATURES with the driver's features (bit 30 removed).</summary>
    public virtual void OnFeaturesNegotiated(VirtioFeatures features)
    {
    }

    /// <summary>Called on the worker when a queue starts (SET_VRING_KICK).</summary>
    public virtual void OnQueueStarted(DeviceQueue queue)
    {
    }

    /// <summary>
    /// Called on the worker when the front end stops a queue (GET_VRING_BASE). The device stops
    /// taking new chains. Return true if every chain it still has in flight is a buffer held for
    /// later (input events, receive buffers) that it now drops: the framework gives those back to
    /// the driver. Return false (the default) if chains are under I/O: the framework keeps the
    /// worker running and waits until they are completed.
    /// </summary>
    public virtual bool OnQueueStopping(DeviceQueue queue) => false;

    /// <summary>
    /// Returns the device to its initial state: on RESET_DEVICE and RESET_OWNER, and when the
    /// front end disconnects. Not on SET_STATUS 0: QEMU sends that from vhost_dev_stop, which runs
    /// on a guest reset but also when the VM is merely stopped (stop/cont, the source side of a
    /// migration), and then starts the rings again at the bases it saved; a reset there would
    /// drop device state (vsock connections, fs inodes) on every pause. See
    /// VhostUserBackend.Session.cs.
    /// </summary>
    public virtual void Reset()
    {
    }

    /// <summary>Called once, when the daemon attaches the device, before any connection.</summary>
    protected virtual void OnAttached()
    {
    }

    internal void Attach(DeviceContext context)
    {
        if (CrashSafeStateSize is < 0 or > MaxCrashSafeStateSize)
        {
            throw new InvalidOperationException($"CrashSafeStateSize {CrashSafeStateSize} is outside 0..{MaxCrashSafeStateSize}");
        }
        _context = context;
        OnAttached();
    }
}
