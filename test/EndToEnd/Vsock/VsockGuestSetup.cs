// VsockGuestSetup.cs — shared pieces of the vsock guest tests: the daemon with its host-side
// socket in a private directory, the QEMU device, the guest script and the seqpacket helper
// built from vsock-seqpacket.c (static, host gcc) into the rig cache and put on PATH, where the
// initramfs builder looks for tools.
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Vsock;

internal sealed class VsockGuestSetup : IDisposable
{
    public const string SeqPacketTool = "vsock-seqpacket";

    public VsockGuestSetup(string daemonId, ulong cid = 3, params string[] extra)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("vsk-").FullName;
        UdsPath = Path.Combine(Directory, "vm.vsock");
        string[] log = Environment.GetEnvironmentVariable("VHOSTD_VSOCK_LOG") is { Length: > 0 } level ? ["--log-level", level] : [];
        Daemon = new DaemonSpec("vsock", ["--guest-cid", $"{cid}", "--uds-path", UdsPath, .. log, .. extra]) { Id = daemonId };
    }

    public string Directory { get; }

    public string UdsPath { get; }

    public DaemonSpec Daemon { get; }

    public static GuestDevice Device(string daemonId) => GuestDevice.VhostUser(daemonId, VhostUserDeviceType.Vsock);

    /// <summary>Builds the helper (once per process) and returns its tool name.</summary>
    public static string BuildSeqPacketHelper()
    {
        lock (typeof(VsockGuestSetup))
        {
            var paths = RigPaths.Discover();
            var directory = Path.Combine(paths.Cache, "tools");
            var binary = Path.Combine(directory, SeqPacketTool);
            var source = Path.Combine(paths.RepoRoot, "test", "EndToEnd", "Vsock", SeqPacketTool + ".c");
            if (!File.Exists(binary) || File.GetLastWriteTimeUtc(binary) < File.GetLastWriteTimeUtc(source))
            {
                System.IO.Directory.CreateDirectory(directory);
                using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-static", "-O2", "-Wall", "-o", binary, source]) { RedirectStandardError = true })
                    ?? throw new InvalidOperationException("cannot start gcc");
                string errors = gcc.StandardError.ReadToEnd();
                gcc.WaitForExit();
                Skip.If(gcc.ExitCode != 0 && !HostInfo.IsCI, $"gcc -static could not build {source}: {errors}");
                Assert.True(gcc.ExitCode == 0, $"gcc -static could not build {source}: {errors}");
            }
            string path = Environment.GetEnvironmentVariable("PATH") ?? "";
            if (!path.Split(':').Contains(directory))
            {
                Environment.SetEnvironmentVariable("PATH", directory + ":" + path);
            }
            return SeqPacketTool;
        }
    }

    /// <summary>The main guest script (busybox sh + check.sh); check names as in VsockGuestTests.</summary>
    public static string Script(long bytes, int slowBytes, int[] messageSizes, bool hostToGuest) => $$"""
        check vsock_device wait_for /dev/vsock 10

        # A port with no host listener: the device answers RST, connect fails with ECONNRESET.
        timed rst_no_listener sh -c 'socat -u /dev/null VSOCK-CONNECT:2:5999 2>/tmp/rst.err'
        check_contains rst_no_listener /tmp/rst.err "Connection reset by peer"

        # Guest -> host echo: send {{bytes}} random bytes, compare the checksum of what came back.
        mkfifo /tmp/sent
        md5sum < /tmp/sent > /tmp/sent.md5 &
        timed g2h_echo sh -c 'head -c {{bytes}} /dev/urandom | tee /tmp/sent | socat -t 120 -b 131072 - VSOCK-CONNECT:2:5000 | md5sum > /tmp/echo.md5'
        wait
        s=$(cut -d' ' -f1 /tmp/sent.md5); e=$(cut -d' ' -f1 /tmp/echo.md5)
        if [ "$s" = "$e" ]; then pass g2h_echo; else fail g2h_echo "sent md5 $s, echo md5 $e"; fi

        # A host listener that reads slowly must not hold up another connection.
        mkfifo /tmp/slow
        md5sum < /tmp/slow > /tmp/slow.md5 &
        m=$!
        (head -c {{slowBytes}} /dev/urandom | tee /tmp/slow | socat -u - VSOCK-CONNECT:2:5001) &
        p=$!
        sleep 1
        timed fast_during_slow sh -c 'head -c 1048576 /dev/zero | socat -t 30 - VSOCK-CONNECT:2:5000 | wc -c > /tmp/fast.n'
        check_contains fast_during_slow /tmp/fast.n 1048576
        if kill -0 $p 2>/dev/null; then pass slow_still_running; else fail slow_still_running "the slow transfer ended first"; fi
        wait $p && wait $m && pass slow_sent || fail slow_sent "socat to the slow reader failed"
        info slow_md5 $(cut -d' ' -f1 /tmp/slow.md5)

        # Seqpacket guest -> host: mixed sizes echoed whole and in order.
        check seqpacket_g2h vsock-seqpacket client 2 5002 {{string.Join(' ', messageSizes)}}

        [ "{{(hostToGuest ? 1 : 0)}}" = 1 ] || exit 0

        # Host -> guest: an echo for the big transfer, a forking echo for concurrent connections,
        # a seqpacket echo; the host starts when it sees vsock_ready and is done when they exit.
        socat -t 120 -b 131072 VSOCK-LISTEN:6000 PIPE &
        e=$!
        socat VSOCK-LISTEN:6001,fork PIPE &
        f=$!
        vsock-seqpacket server 6002 > /tmp/sp.out 2>&1 &
        s=$!
        sleep 1
        info vsock_ready 1
        wait $e && pass h2g_echo_served || fail h2g_echo_served "socat exited with an error"
        wait $s
        check_contains seqpacket_h2g_served /tmp/sp.out "ok"
        kill $f 2>/dev/null
        """;

    /// <summary>A line of guest-side rates (TCG: these measure the emulator, not the daemon).</summary>
    public static string Rates(GuestResult result, long bytes, VsockGuestTests.HostToGuestResults h2g)
    {
        double g2h = (result.InfoNumber("g2h_echo-cs") ?? 0) / 100.0;
        return $"TCG guest: guest->host echo of {bytes >> 20} MiB each way in {g2h:0.0} s ({(bytes >> 20) / Math.Max(g2h, 0.01):0.0} MiB/s); "
            + $"host->guest echo in {h2g.EchoSeconds:0.0} s ({(bytes >> 20) / Math.Max(h2g.EchoSeconds, 0.01):0.0} MiB/s)";
    }

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
