// DaemonCommandLineTests.cs — the shared daemon command line (vhost-user-protocol.md §16) run in
// process with a FakeDevice: --fd of a connected socket serves that front end and returns 0 when
// it closes; an --fd that is no open stream socket is a usage error (exit 2) before anything
// starts. (The built daemons' one-line messages are checked in test/EndToEnd/Rng.)
using VhostUser.Backend;
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests;

public sealed class DaemonCommandLineTests
{
    [Fact]
    public void Run_FdOfAConnectedSocket_ServesItAndExitsZeroWhenItCloses()
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(BackendPair.Timeout);
        var device = new FakeDevice();
        int inherited = backendEnd.Descriptor.RawValue;
        backendEnd.Descriptor.SetHandleAsInvalid(); // the daemon owns the number now, as after an exec
        int exitCode = -1;
        var run = new Thread(() => exitCode = CommandLine().Run(["--fd", $"{inherited}", "--log-level", "off"],
            invocation => invocation.Endpoints([device])))
        { IsBackground = true, Name = "daemon command line" };
        run.Start();

        using (var frontend = new VhostUserFrontend(frontendEnd))
        using (var driver = new Driver(frontend, Driver.RingFeatures(packed: false, eventIdx: false)))
        {
            Assert.Equal([1, 2], driver.Start(0).Echo([1, 2]));
        }

        Assert.True(run.Join(BackendPair.Timeout), "the daemon kept running after its only front end closed");
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public void Run_FdNotOpen_UsageError()
    {
        bool built = false;
        int code = CommandLine().Run(["--fd", "1000000"], invocation =>
        {
            built = true;
            return [];
        });

        Assert.Equal(DaemonCommandLine.UsageError, code);
        Assert.False(built);
    }

    [Fact]
    public void Run_FdOfARegularFile_UsageError()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = FileDescriptor.OpenRead(path);
            Assert.Equal(DaemonCommandLine.UsageError, CommandLine().Run(["--fd", $"{file.RawValue}"], _ => []));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static DaemonCommandLine CommandLine() => new("vhost-user-test", "test daemon", "rng");
}
