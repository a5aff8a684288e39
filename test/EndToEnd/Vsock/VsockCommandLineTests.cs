// The built daemon's command line (no guest): several guests from --vm or a YAML --config serve
// every socket they name, and a mistake is one line saying what to fix, exit status 2.
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Vsock;

public sealed class VsockCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vsk-cli-").FullName;

    [SkippableTheory]
    [InlineData("guest-cid=3,socket=S1,uds-path=U1", "guest-cid=3,socket=S2,uds-path=U2", "guest-cid 3 is used by two guests")]
    [InlineData("guest-cid=3,socket=S1,uds-path=U1", "guest-cid=4,socket=S1,uds-path=U2", "is used by two guests; each guest needs its own vhost-user socket")]
    [InlineData("guest-cid=3,socket=S1,uds-path=U1", "guest-cid=4,socket=S2,uds-path=U1", "is used by two guests; each guest needs its own")]
    [InlineData("guest-cid=2,socket=S1,uds-path=U1", "guest-cid=4,socket=S2,uds-path=U2", "guest-cid must be 3")]
    [InlineData("guest-cid=3,socket=S1,uds-path=U1", "guest-cid=4,socket=S2,uds-path=U1_5000", "is where guest 3 connects for host port 5000")]
    [InlineData("guest-cid=3,socket=S1,uds-path=U1", "guest-cid=4,socket=U1_seqpacket,uds-path=U2", "is also the vhost-user socket of guest 4")]
    public void Daemon_BadVm_ExitTwoWithOneLine(string first, string second, string expected)
    {
        var (exitCode, output) = Run(["--vm", Paths(first), "--vm", Paths(second)], TimeSpan.FromSeconds(10));
        Assert.Equal(2, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
    }

    [SkippableFact]
    public async Task Daemon_ConfigFileWithTwoGuests_ListensOnBoth()
    {
        string config = Path.Combine(_directory, "vms.yaml");
        File.WriteAllText(config, Paths("""
            vms:
              - guest_cid: 3
                socket: S1
                uds_path: U1
                groups: lab
              - guest_cid: 4
                socket: S2
                uds_path: U2
                tx_buffer_size: 65536
                groups: lab+ci
            """));
        using var daemon = Start(["--config", config]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string[] sockets = [Paths("S1"), Paths("S2"), Paths("U1"), Paths("U2"), Paths("U1") + "_seqpacket"];
        while (!sockets.All(DaemonProcess.IsListening) && DateTime.UtcNow < deadline && !daemon.HasExited)
        {
            await Task.Delay(50);
        }
        Assert.All(sockets, s => Assert.True(DaemonProcess.IsListening(s), $"{s} is not listening"));
        daemon.Kill();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>S1, U2, … become paths in the test's directory.</summary>
    private string Paths(string text)
    {
        foreach (string name in (string[])["S1", "S2", "U1", "U2"])
        {
            text = text.Replace(name, Path.Combine(_directory, name.ToLowerInvariant()), StringComparison.Ordinal);
        }
        return text;
    }

    private static Process Start(string[] arguments) => BuiltDaemon.Start("vsock", arguments);

    private static (int ExitCode, string Output) Run(string[] arguments, TimeSpan timeout) => BuiltDaemon.Run("vsock", arguments, timeout);
}
