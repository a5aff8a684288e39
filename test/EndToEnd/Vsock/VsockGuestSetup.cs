// VsockGuestSetup.cs — shared pieces of the vsock guest tests: a private directory for the
// host-side sockets, the daemon spec, the guest tool built from vsock-tool.c (static, host gcc)
// into the rig cache and put on PATH, where the initramfs builder looks for tools, and the guest
// scripts (busybox sh + /lib/check.sh; check names as in the tests).
namespace VhostUser.EndToEnd.Tests.Vsock;

internal sealed class VsockGuestSetup : IDisposable
{
    public const string Tool = "vsock-tool";

    /// <summary>Guest ports of the services the scripts start, and the port the host signals on.</summary>
    public const uint EchoPort = 6000, SeqPacketPort = 6002, SignalPort = 6009;

    /// <summary>Host listeners (UDS_&lt;port&gt;): echo, slow reader, seqpacket echo.</summary>
    public const uint HostEchoPort = 5000, HostSlowPort = 5001, HostSeqPacketPort = 5002;

    public VsockGuestSetup()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("vsk-").FullName;
        UdsPath = Path.Combine(Directory, "vm.vsock");
    }

    public string Directory { get; }

    public string UdsPath { get; }

    /// <summary>out/vhost-user-vsock for one guest (VHOSTD_VSOCK_LOG=debug|trace adds its log level).</summary>
    public DaemonSpec Daemon(ulong cid = 3) =>
        new("vsock", ["--guest-cid", $"{cid}", "--uds-path", UdsPath, .. LogLevel()]);

    public static string[] LogLevel() =>
        Environment.GetEnvironmentVariable("VHOSTD_VSOCK_LOG") is { Length: > 0 } level ? ["--log-level", level] : [];

    public static GuestDevice Device(string daemonId = "vsock") => GuestDevice.VhostUser(daemonId, VhostUserDeviceType.Vsock);

    /// <summary>Builds the guest tool (when its source is newer), puts it on PATH and returns the binary's path.</summary>
    public static string BuildTool() => Rig.BuildTool(Tool, "Vsock/" + Tool + ".c", isStatic: true);

    /// <summary>serve_echo PORT: starts the echo service in the background and returns once it listens.</summary>
    public static readonly string ServeEcho = $$"""
        serve_echo() {
            {{Tool}} echo "$1" > "/tmp/echo-$1.log" 2>&1 &
            for i in $(seq 100); do grep -q listening "/tmp/echo-$1.log" && return 0; sleep 0.1; done
            fail "echo_$1" "the echo service did not start: $(cat "/tmp/echo-$1.log")"
            return 1
        }
        """;

    /// <summary>
    /// The main run: stage 1 moves the data (host-side half driven by the host when it sees
    /// VHOSTD-INFO vsock_ready, which then reports back on the signal port), stage 2 (after a
    /// guest reboot) checks that the same daemon still serves both directions.
    /// </summary>
    public static string MainScript(long bytes, int slowBytes, int concurrentBytes, int[] messageSizes) => $$"""
        check vsock_device wait_for /dev/vsock 10
        {{ServeEcho}}
        serve_echo {{EchoPort}}
        {{QuickChecks}}
        if [ "$VHOSTD_STAGE" != 1 ]; then
            quick_checks after_reboot
            exit 0
        fi

        # A port with no host listener: the device answers RST, connect fails with ECONNRESET.
        timed rst_no_listener sh -c '{{Tool}} push 2 5999 1 > /tmp/rst.out 2>&1'
        check_contains rst_no_listener /tmp/rst.out "Connection reset by peer"

        # A host listener that reads slowly must not hold up another connection.
        {{Tool}} push 2 {{HostSlowPort}} {{slowBytes}} > /tmp/slow.out 2>&1 &
        p=$!
        sleep 1
        timed fast_during_slow sh -c '{{Tool}} send 2 {{HostEchoPort}} 1048576 > /tmp/fast.out 2>&1'
        check_contains fast_during_slow /tmp/fast.out "ok 1 x 1048576"
        if kill -0 $p 2>/dev/null; then pass slow_still_running; else fail slow_still_running "the slow transfer ended first"; fi
        wait $p
        check_contains slow_sent /tmp/slow.out "ok sent="
        info slow_hash "$(sed -n 's/^ok sent=//p' /tmp/slow.out)"

        # Guest -> host echo: the tool checks the echo byte for byte and prints both checksums.
        timed g2h_echo sh -c '{{Tool}} send 2 {{HostEchoPort}} {{bytes}} > /tmp/g2h.out 2>&1'
        check_contains g2h_echo /tmp/g2h.out "ok 1 x {{bytes}} bytes"
        info g2h_hashes "$(cat /tmp/g2h.out)"
        timed g2h_concurrent sh -c '{{Tool}} send 2 {{HostEchoPort}} {{concurrentBytes}} 64 > /tmp/conc.out 2>&1'
        check_contains g2h_concurrent /tmp/conc.out "ok 64 x {{concurrentBytes}} bytes"

        # Seqpacket guest -> host: mixed sizes echoed whole and in order.
        check seqpacket_g2h {{Tool}} seqclient 2 {{HostSeqPacketPort}} {{string.Join(' ', messageSizes)}}

        # Host -> guest: the host echoes through our echo service and our seqpacket server, then
        # tells us how it went on the signal port.
        {{Tool}} seqserver {{SeqPacketPort}} > /tmp/sp.out 2>&1 &
        s=$!
        info vsock_ready 1
        {{Tool}} wait {{SignalPort}} > /tmp/host.out 2>&1
        check_contains host_to_guest /tmp/host.out "ok"
        info host_result "$(cat /tmp/host.out)"
        for i in 1 2 3 4 5; do kill -0 $s 2>/dev/null || break; sleep 1; done
        kill $s 2>/dev/null
        check_contains seqpacket_h2g_served /tmp/sp.out "ok"
        guest_reboot
        """;

    /// <summary>A new QEMU on the daemon that served the main run.</summary>
    public static string NewQemuScript() => $$"""
        check vsock_device wait_for /dev/vsock 10
        {{ServeEcho}}
        serve_echo {{EchoPort}}
        {{QuickChecks}}
        quick_checks new_qemu
        """;

    /// <summary>quick_checks PREFIX: 1 MiB echoed each way; the host starts its half on PREFIX_ready.</summary>
    private static readonly string QuickChecks = $$"""
        quick_checks() {
            check "$1_g2h" {{Tool}} send 2 {{HostEchoPort}} 1048576
            info "$1_ready" 1
            {{Tool}} wait {{SignalPort}} > /tmp/host.out 2>&1
            check_contains "$1_h2g" /tmp/host.out "ok"
        }
        """;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
