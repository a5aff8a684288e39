// DeviceContext.cs — the framework services a device may use: logging, its queues, running work
// on a queue worker, watching its own fds on a worker, and telling the front end that the config
// space changed. One context per device, alive across connections.
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VhostUser.Unix;

namespace VhostUser.Backend;

/// <summary>Framework services for a device.</summary>
public sealed class DeviceContext
{
    private readonly QueueWorker[] _workers;
    private readonly DeviceQueue[] _queues;
    private volatile BackendChannel? _channel;

    internal DeviceContext(ILoggerFactory loggerFactory, ILogger logger, QueueWorker[] workers, DeviceQueue[] queues)
    {
        LoggerFactory = loggerFactory;
        Logger = logger;
        _workers = workers;
        _queues = queues;
    }

    /// <summary>The device's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>For devices that want loggers of their own categories.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The device's queues, by index.</summary>
    public IReadOnlyList<DeviceQueue> Queues => _queues;

    /// <summary>The worker threads, by id.</summary>
    public IReadOnlyList<QueueWorker> Workers => _workers;

    /// <summary>True while a front end is connected and gave a back-end request channel.</summary>
    public bool HasBackendChannel => _channel is not null;

    /// <summary>Runs <paramref name="action"/> on worker <paramref name="worker"/>; returns at once.</summary>
    public void Post(Action action, int worker = 0) => _workers[worker].Post(action);

    /// <summary>
    /// Watches a device fd on worker <paramref name="worker"/>; the callback runs there, and the
    /// queues of that worker are notified after it. Dispose the result before closing the fd.
    /// </summary>
    public IDisposable Watch(SafeHandle fd, EpollEvents events, Action<EpollEvents> callback, int worker = 0) =>
        _workers[worker].Watch(fd, events, callback);

    /// <summary>
    /// Tells the front end the config space changed (BACKEND_CONFIG_CHANGE_MSG); QEMU re-reads it
    /// with GET_CONFIG and raises the guest's config interrupt. Returns false if no back-end
    /// channel is open.
    /// </summary>
    public bool NotifyConfigChanged()
    {
        var channel = _channel;
        return channel is not null && channel.SendConfigChange();
    }

    /// <summary>
    /// The device's crash-safe state changed (VirtioDevice.CrashSafeStateSize): the framework
    /// saves it into the current inflight area, if one is set (else when the next one is). Call
    /// on the control thread, as from WriteConfig.
    /// </summary>
    public void CrashSafeStateChanged() => SaveCrashSafeState?.Invoke();

    internal Action? SaveCrashSafeState { get; set; }

    internal BackendChannel? Channel
    {
        get => _channel;
        set => _channel = value;
    }
}
