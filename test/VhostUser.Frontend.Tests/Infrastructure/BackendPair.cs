// BackendPair.cs — a device served by VhostUserDaemon.ServeConnection on one end of a socketpair,
// on its own thread, with the C# front end on the other end: the whole protocol path in one
// process. Reconnect() serves a fresh connection on the same daemon once the last one ended.
using Microsoft.Extensions.Logging.Abstractions;
using VhostUser.Backend;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests.Infrastructure;

internal sealed class BackendPair : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private Thread _thread;

    /// <param name="device">The device to serve.</param>
    /// <param name="drainTimeout">How long GET_VRING_BASE waits for chains under I/O (default 30 s).</param>
    public BackendPair(FakeDevice device, TimeSpan? drainTimeout = null)
    {
        Device = device;
        Daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        if (drainTimeout is { } timeout)
        {
            Daemon.DrainTimeout = timeout;
        }
        (Frontend, _thread) = Serve();
    }

    public FakeDevice Device { get; }

    public VhostUserDaemon Daemon { get; }

    public VhostUserFrontend Frontend { get; private set; }

    /// <summary>The daemon's view of queue <paramref name="index"/>.</summary>
    public DeviceQueue Queue(int index) => Daemon.Context.Queues[index];

    /// <summary>True once the daemon finished serving the current connection.</summary>
    public bool WaitForDisconnect(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>Closes the current front end, waits for the daemon to finish it, and connects a new one.</summary>
    public VhostUserFrontend Reconnect()
    {
        Frontend.Dispose();
        if (!_thread.Join(Timeout))
        {
            throw new TimeoutException("the daemon did not finish the previous connection");
        }
        (Frontend, _thread) = Serve();
        return Frontend;
    }

    public void Dispose()
    {
        Frontend.Dispose();
        _thread.Join(Timeout);
        Daemon.Dispose();
    }

    private (VhostUserFrontend, Thread) Serve()
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(Timeout);
        var thread = new Thread(() => Daemon.ServeConnection(backendEnd)) { IsBackground = true, Name = "in-process daemon" };
        thread.Start();
        return (new VhostUserFrontend(frontendEnd), thread);
    }
}
