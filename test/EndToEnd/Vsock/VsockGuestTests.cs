// vhost-user-vsock served by out/vhost-user-vsock to a stock guest's vmw_vsock_virtio_transport,
// over PCI and MMIO, with host programs on the hybrid-vsock Unix sockets (VsockHostPeers) and
// vsock-tool in the guest. One daemon serves three boots: the main transfers (256 MiB echoed
// each way with checksums compared at both ends, 64 concurrent connections each way, a slow host
// reader that holds up nobody, a port without listener reset quickly, seqpacket messages of mixed
// sizes both ways), then the same guest after a reboot, then a new QEMU after the first exited.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace VhostUser.EndToEnd.Tests.Vsock;

[Collection(GuestCollection.Name)]
[Trait("Category", "Guest")]
public sealed class VsockGuestTests(ITestOutputHelper output)
{
    /// <summary>Bytes echoed each way (VHOSTD_VSOCK_MIB overrides; ~10 s per direction under TCG here).</summary>
    private static readonly long TransferBytes =
        (long.TryParse(Environment.GetEnvironmentVariable("VHOSTD_VSOCK_MIB"), out long mib) ? mib : 256) << 20;

    private const int SlowBytes = 2 << 20;
    private const int ConcurrentConnections = 64;
    private const int ConcurrentBytes = 256 * 1024;
    private const int QuickBytes = 1 << 20;
    /// <summary>Seqpacket message sizes both ways; 250 000 is near the 256 KiB buf_alloc and beyond a Unix socket's default send buffer.</summary>
    private static readonly int[] MessageSizes = [1, 100, 4095, 4096, 4097, 10_000, 65_536, 100_000, 250_000];

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Vsock_TransfersSurviveRebootAndNewQemu(Transport transport)
    {
        Rig.Require("vsock");
        VsockGuestSetup.BuildTool();
        using var host = new VsockGuestSetup();
        await using var guestLock = await GuestLock.AcquireAsync(onWaiting: output.WriteLine);
        await using var daemon = await Rig.StartDaemonAsync(host.Daemon());
        using var cancel = new CancellationTokenSource();
        var echoed = new ConcurrentQueue<VsockHostPeers.Received>();
        var echo = VsockHostPeers.EchoServerAsync(host.UdsPath + "_5000", SocketType.Stream, cancel.Token, echoed);
        var slow = VsockHostPeers.SlowSinkAsync(host.UdsPath + "_5001", 16 * 1024, TimeSpan.FromMilliseconds(50), cancel.Token);
        var seqEcho = VsockHostPeers.EchoServerAsync(host.UdsPath + "_5002", SocketType.Seqpacket, cancel.Token);
        var hostSide = new ConcurrentDictionary<string, Task<string>>();

        var main = await RunRetryingQemuAbortAsync(() => new GuestRun(transport)
        {
            Name = "vsock",
            Stages = 2,
            Timeout = TimeSpan.FromSeconds(240 + (TransferBytes >> 20)),
            RunningDaemons = { daemon },
            Devices = { VsockGuestSetup.Device() },
            Modules = { "vmw_vsock_virtio_transport" },
            Tools = { VsockGuestSetup.Tool },
            Script = VsockGuestSetup.MainScript(TransferBytes, SlowBytes, ConcurrentBytes, MessageSizes),
            OnSerialLine = (_, line) => StartHostSide(line, host.UdsPath, hostSide),
        }, hostSide);
        var newQemu = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "vsock-new-qemu",
            RunningDaemons = { daemon },
            Devices = { VsockGuestSetup.Device() },
            Modules = { "vmw_vsock_virtio_transport" },
            Tools = { VsockGuestSetup.Tool },
            Script = VsockGuestSetup.NewQemuScript(),
            OnSerialLine = (_, line) => StartHostSide(line, host.UdsPath, hostSide),
        }, output);
        cancel.Cancel();

        foreach (var (key, task) in hostSide)
        {
            output.WriteLine($"host side of {key}: {(task.IsCompleted ? task.Result : "still running")}");
        }
        GuestAssert.Passed(main, "vsock_device", "rst_no_listener", "fast_during_slow", "slow_still_running", "slow_sent",
            "g2h_echo", "g2h_concurrent", "seqpacket_g2h", "host_to_guest", "seqpacket_h2g_served", "after_reboot_g2h", "after_reboot_h2g");
        GuestAssert.Passed(newQemu, "vsock_device", "new_qemu_g2h", "new_qemu_h2g");
        Assert.False(daemon.HasExited, "the daemon exited");

        var rstTime = TimeSpan.FromMilliseconds(10 * (main.InfoNumber("rst_no_listener-cs") ?? 0));
        Assert.True(rstTime < TimeSpan.FromSeconds(5), $"connecting to a port without listener took {rstTime.TotalSeconds:0.0} s to fail\n{main.Report()}");
        // Both ends of the guest->host echo: what the host received is what the guest sent.
        string g2h = main.InfoValue("g2h_hashes") ?? "";
        Assert.Contains(echoed, r => r.Bytes == TransferBytes && g2h.Contains($"sent={r.Hash} received={r.Hash}", StringComparison.Ordinal));
        var slowReceived = await slow;
        Assert.Equal(new VsockHostPeers.Received(SlowBytes, main.InfoValue("slow_hash") ?? ""), slowReceived);
        await echo;
        await seqEcho;
        output.WriteLine(Rates(main, hostSide));
    }

    /// <summary>
    /// Runs the guest; once more if QEMU itself aborted on "msix_table_mmio_write: Assertion"
    /// (QEMU 10.0 under TCG, seen once in ~20 PCI reboots here, in the boot after the reboot; the
    /// daemon kept running — the retry is served by the same daemon, a new QEMU on it).
    /// </summary>
    private async Task<GuestResult> RunRetryingQemuAbortAsync(Func<GuestRun> run, ConcurrentDictionary<string, Task<string>> hostSide)
    {
        var result = await Rig.RunAsync(run(), output);
        if (result.QemuExitCode == 134 && result.QemuLog.Contains("msix_table_mmio_write: Assertion", StringComparison.Ordinal))
        {
            output.WriteLine("QEMU aborted in msix_table_mmio_write (a QEMU bug, not the daemon's); running the guest once more on the same daemon");
            hostSide.Clear();
            result = await Rig.RunAsync(run(), output);
        }
        return result;
    }

    /// <summary>Starts the host's half when the guest announces it (by the VHOSTD-INFO key).</summary>
    private static Task StartHostSide(string line, string udsPath, ConcurrentDictionary<string, Task<string>> started)
    {
        foreach (string key in (string[])["vsock_ready", "after_reboot_ready", "new_qemu_ready"])
        {
            if (line.Contains($"VHOSTD-INFO {key} ", StringComparison.Ordinal))
            {
                started.GetOrAdd(key, k => Task.Run(() => HostSideAsync(udsPath, k == "vsock_ready")));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>The host's half; its one-line result goes to the guest's signal port (and is returned).</summary>
    private static async Task<string> HostSideAsync(string udsPath, bool full)
    {
        string result;
        try
        {
            result = full ? await FullHostToGuestAsync(udsPath) : await EchoAsync(udsPath, QuickBytes, 1);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            result = "FAIL " + e.Message;
        }
        await VsockHostPeers.SignalGuestAsync(udsPath, VsockGuestSetup.SignalPort, result, TimeSpan.FromSeconds(30));
        return result;
    }

    private static async Task<string> FullHostToGuestAsync(string udsPath)
    {
        var clock = Stopwatch.StartNew();
        string big = await EchoAsync(udsPath, TransferBytes, 1);
        double seconds = clock.Elapsed.TotalSeconds;
        if (!big.StartsWith("ok", StringComparison.Ordinal))
        {
            return big;
        }
        clock.Restart();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, ConcurrentConnections).Select(i => EchoAsync(udsPath, ConcurrentBytes, 100 + i)));
        double concurrentSeconds = clock.Elapsed.TotalSeconds;
        int failed = concurrent.Count(r => !r.StartsWith("ok", StringComparison.Ordinal));
        if (failed > 0)
        {
            return $"FAIL {failed} of {ConcurrentConnections} concurrent echoes: {concurrent.First(r => !r.StartsWith("ok", StringComparison.Ordinal))}";
        }
        using var socket = await VsockHostPeers.ConnectToGuestAsync(udsPath, VsockGuestSetup.SeqPacketPort, SocketType.Seqpacket);
        string? seqError = await VsockHostPeers.SeqPacketRoundTripsAsync(socket, MessageSizes);
        return seqError is not null
            ? "FAIL seqpacket " + seqError
            : FormattableString.Invariant($"ok echo {TransferBytes >> 20} MiB in {seconds:0.0} s, {ConcurrentConnections} x {ConcurrentBytes >> 10} KiB in {concurrentSeconds:0.0} s, seqpacket ok");
    }

    private static async Task<string> EchoAsync(string udsPath, long bytes, int seed)
    {
        using var socket = await VsockHostPeers.ConnectToGuestAsync(udsPath, VsockGuestSetup.EchoPort);
        var (sent, echoed) = await VsockHostPeers.EchoThroughGuestAsync(socket, bytes, seed);
        return sent == echoed && echoed.Bytes == bytes ? $"ok {sent.Hash}" : $"FAIL sent {sent}, echoed {echoed}";
    }

    private static string Rates(GuestResult main, ConcurrentDictionary<string, Task<string>> hostSide)
    {
        double g2h = (main.InfoNumber("g2h_echo-cs") ?? 0) / 100.0;
        double mib = TransferBytes >> 20;
        string h2g = hostSide.TryGetValue("vsock_ready", out var t) && t.IsCompletedSuccessfully ? t.Result : "n/a";
        return FormattableString.Invariant($"TCG guest ({main.Transport}): guest->host echo of {mib} MiB each way in {g2h:0.0} s ({mib / Math.Max(g2h, 0.01):0.0} MiB/s); host->guest: {h2g}");
    }
}
