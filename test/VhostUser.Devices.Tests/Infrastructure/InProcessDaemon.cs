// InProcessDaemon.cs — a device served by VhostUserDaemon on one end of a socketpair, with the C#
// front end on the other: the whole protocol path without spawning a process.
using Microsoft.Extensions.Logging.Abstractions;
using VhostUser.Backend;
using VhostUser.Frontend;
using VhostUser.Unix;

namespace VhostUser.Devices.Tests.Infrastructure;

internal sealed class InProcessDaemon : IDisposable
{
    private readonly Thread _thread;

    public InProcessDaemon(VirtioDevice device)
    {
        Daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(TimeSpan.FromSeconds(10));
        Frontend = new VhostUserFrontend(frontendEnd);
        _thread = new Thread(() => Daemon.ServeConnection(backendEnd)) { IsBackground = true, Name = "in-process daemon" };
        _thread.Start();
    }

    public VhostUserDaemon Daemon { get; }

    public VhostUserFrontend Frontend { get; }

    public void Dispose()
    {
        Frontend.Dispose();
        _thread.Join(TimeSpan.FromSeconds(10));
        Daemon.Dispose();
    }
}
