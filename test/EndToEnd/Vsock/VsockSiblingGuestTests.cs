// Sibling guests: one vhost-user-vsock daemon serving three guests (--vm, CIDs 3 and 4 in group
// "a", CID 5 in group "b"), at most two QEMUs at a time. A (PCI) and B (MMIO) boot together and
// echo data through each other's services; B stays up until both echoes are done (they need not
// end together, and A's runs through B's echo service). Then B exits and C (MMIO, the other
// group) boots while A still runs, and each of A and C tries the other's listening service: both
// must get ECONNRESET. The host paces the guests through their signal port
// (VsockHostPeers.SignalGuestAsync) so that every connection attempt meets a running, listening
// peer.
using System.Net.Sockets;

namespace VhostUser.EndToEnd.Tests.Vsock;

[Collection(GuestCollection.Name)]
[Trait("Category", "Guest")]
public sealed class VsockSiblingGuestTests(ITestOutputHelper output)
{
    private const int SiblingBytes = 16 << 20;
    private const uint Signal = 7009;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(150);

    [SkippableFact]
    public async Task Vsock_SiblingGuests_ConnectOnlyWithinTheirGroup()
    {
        Rig.Require("vsock");
        VsockGuestSetup.BuildTool();
        using var host = new VsockGuestSetup();
        string Uds(int cid) => Path.Combine(host.Directory, $"vm{cid}.vsock");
        var spec = DaemonSpec.External("vsock-siblings", RigPaths.Discover().Daemon("vsock"),
        [
            "--vm", $"guest-cid=3,socket={DaemonSpec.SocketPlaceholder}.3,uds-path={Uds(3)},groups=a",
            "--vm", $"guest-cid=4,socket={DaemonSpec.SocketPlaceholder}.4,uds-path={Uds(4)},groups=a",
            // Listened on last: when the harness sees this socket, all three are up.
            "--vm", $"guest-cid=5,socket={DaemonSpec.SocketPlaceholder},uds-path={Uds(5)},groups=b",
            .. VsockGuestSetup.LogLevel(),
        ]);
        await using var guestLock = await GuestLock.AcquireAsync(onWaiting: output.WriteLine);
        await using var daemon = await DaemonProcess.StartAsync(spec);
        var lines = new GuestLines();

        var runA = Rig.RunAsync(Guest(Transport.Pci, "a", daemon.SocketPath + ".3", ScriptA, lines), output);
        var runB = Rig.RunAsync(Guest(Transport.Mmio, "b", daemon.SocketPath + ".4", ScriptB, lines), output);
        var pacing = Task.Run(async () =>
        {
            await lines.WaitAsync(StepTimeout, "a_ready", "b_ready");
            await Task.WhenAll(SignalAsync(Uds(3)), SignalAsync(Uds(4)));
            await lines.WaitAsync(StepTimeout, "a_to_b", "b_to_a");
            await SignalAsync(Uds(4)); // B may end now: A's echo through B's service is done too
        });
        var b = await runB;
        var runC = Rig.RunAsync(Guest(Transport.Mmio, "c", daemon.SocketPath, ScriptC, lines), output);
        var pacingC = Task.Run(async () =>
        {
            await pacing;
            await lines.WaitAsync(StepTimeout, "c_ready");
            await Task.WhenAll(SignalAsync(Uds(3)), SignalAsync(Uds(5)));
            await lines.WaitAsync(StepTimeout, "a_to_other_group", "c_to_other_group");
            await SignalAsync(Uds(3)); // A may end now: C's attempt met A's listening service
        });
        var c = await runC;
        var a = await runA;
        await pacingC;

        GuestAssert.Passed(a, "vsock_device", "a_to_b", "a_to_other_group");
        GuestAssert.Passed(b, "vsock_device", "b_to_a");
        GuestAssert.Passed(c, "vsock_device", "c_to_other_group");
        Assert.False(daemon.HasExited, "the daemon exited");
        output.WriteLine(FormattableString.Invariant($"{SiblingBytes >> 20} MiB echoed: A through B in {(a.InfoNumber("a_to_b-cs") ?? 0) / 100.0:0.0} s, B through A in {(b.InfoNumber("b_to_a-cs") ?? 0) / 100.0:0.0} s"));
        foreach (var (result, key) in new[] { (a, "a_to_other_group-cs"), (c, "c_to_other_group-cs") })
        {
            double seconds = (result.InfoNumber(key) ?? 0) / 100.0;
            Assert.True(seconds < 5, $"{key}: refused after {seconds:0.0} s\n{result.Report()}");
        }
    }

    private static GuestRun Guest(Transport transport, string name, string socket, string script, GuestLines lines) => new(transport)
    {
        Name = "vsock-sibling-" + name,
        MemoryMiB = 256,
        Cpus = 1,
        Timeout = TimeSpan.FromSeconds(name == "a" ? 420 : 240),
        ExtraQemuArguments =
        {
            "-chardev", $"socket,id=vsk,path={socket}",
            "-device", $"{VhostUserDeviceType.Vsock.For(transport)},chardev=vsk",
        },
        Modules = { "vmw_vsock_virtio_transport" },
        Tools = { VsockGuestSetup.Tool },
        Script = script,
        OnSerialLine = (_, line) => lines.Add(line),
    };

    /// <summary>Lets a guest past its next `vsock-tool wait`; a guest that is gone fails its own run instead.</summary>
    private static async Task SignalAsync(string udsPath)
    {
        try
        {
            await VsockHostPeers.SignalGuestAsync(udsPath, Signal, "go", StepTimeout);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
        }
    }

    private const string Tool = VsockGuestSetup.Tool;

    /// <summary>CID 3, group a: serves 7000; echoes through B; then tries C.</summary>
    private static readonly string ScriptA = $$"""
        check vsock_device wait_for /dev/vsock 10
        {{VsockGuestSetup.ServeEcho}}
        serve_echo 7000
        info a_ready 1
        {{Tool}} wait {{Signal}} > /dev/null
        timed a_to_b check a_to_b {{Tool}} send 4 7001 {{SiblingBytes}}
        {{Tool}} wait {{Signal}} > /dev/null
        timed a_to_other_group sh -c '{{Tool}} push 5 7002 1 > /tmp/c.out 2>&1'
        check_contains a_to_other_group /tmp/c.out "Connection reset by peer"
        {{Tool}} wait {{Signal}} > /dev/null
        """;

    /// <summary>CID 4, group a: serves 7001; echoes through A; stays up until A's echo through it is done too.</summary>
    private static readonly string ScriptB = $$"""
        check vsock_device wait_for /dev/vsock 10
        {{VsockGuestSetup.ServeEcho}}
        serve_echo 7001
        info b_ready 1
        {{Tool}} wait {{Signal}} > /dev/null
        timed b_to_a check b_to_a {{Tool}} send 3 7000 {{SiblingBytes}}
        {{Tool}} wait {{Signal}} > /dev/null
        """;

    /// <summary>CID 5, group b: serves 7002; tries A.</summary>
    private static readonly string ScriptC = $$"""
        check vsock_device wait_for /dev/vsock 10
        {{VsockGuestSetup.ServeEcho}}
        serve_echo 7002
        info c_ready 1
        {{Tool}} wait {{Signal}} > /dev/null
        timed c_to_other_group sh -c '{{Tool}} push 3 7000 1 > /tmp/a.out 2>&1'
        check_contains c_to_other_group /tmp/a.out "Connection reset by peer"
        """;
}
