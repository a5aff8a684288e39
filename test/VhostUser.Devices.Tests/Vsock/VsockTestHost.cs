// VsockTestHost.cs — one vsock device served in process with a guest driver attached, in a
// private temporary directory for the host-side sockets.
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

internal sealed class VsockTestHost : IDisposable
{
    private readonly string _directory;

    public VsockTestHost(ulong cid = 3, uint txBufferSize = 256 * 1024, string groups = "default", VsockRegistry? registry = null, string? directory = null, bool seqPacket = true, uint rxPayload = VsockGuestDriver.RxPayload, int queueSize = 128, int rxBuffers = -1)
    {
        _directory = directory ?? Path.Combine("/tmp", "vsk-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(_directory);
        UdsPath = Path.Combine(_directory, $"vm{cid}.vsock");
        Options = VsockVmOptions.Create("", cid, null, UdsPath, txBufferSize, 1024, groups);
        Device = new VsockDevice(Options, registry ?? new VsockRegistry());
        Daemon = new InProcessDaemon(Device);
        Guest = new VsockGuestDriver(Daemon, cid, seqPacket, queueSize: queueSize, rxBuffers: rxBuffers, rxPayload: rxPayload);
    }

    public VsockVmOptions Options { get; }

    public string UdsPath { get; }

    public VsockDevice Device { get; }

    public InProcessDaemon Daemon { get; }

    public VsockGuestDriver Guest { get; }

    public string Directory => _directory;

    public void Dispose()
    {
        Guest.Dispose();
        Daemon.Dispose();
        Device.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
