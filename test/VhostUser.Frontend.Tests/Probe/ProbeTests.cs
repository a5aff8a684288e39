// ProbeTests.cs — vhost-user-probe's core (BackendProbe, ReportWriter, FeatureNames) against the
// in-process daemon (which refuses a GET_CONFIG past the device's config, as libvhost-user does)
// and against a scripted libvhost-user-like peer; and its command line (ProbeCommandLine) for
// exit codes, text and JSON.
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using VhostUser.Backend;
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Tools.Probe;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Probe;

public sealed class ProbeTests
{
    [Fact]
    public void Run_InProcessDaemon_PrintsFeatureNamesQueuesSlotsAndConfig()
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 3, configSize: 24, deviceFeatures: (VirtioFeatures)0b10_0001));

        var report = BackendProbe.Run(pair.Frontend, configSize: null);
        string text = ReportWriter.Text("/run/dev.sock", report);

        Assert.Contains("features           0x0000000571000021\n", text, StringComparison.Ordinal);
        Assert.Contains("bit 0, bit 5, NOTIFY_ON_EMPTY, INDIRECT_DESC, EVENT_IDX, PROTOCOL_FEATURES, VERSION_1, RING_PACKED\n", text, StringComparison.Ordinal);
        Assert.Contains("MQ, REPLY_ACK, BACKEND_REQ, CONFIG, BACKEND_SEND_FD, RESET_DEVICE, CONFIGURE_MEM_SLOTS, STATUS\n", text, StringComparison.Ordinal);
        Assert.Contains("queues             3\n", text, StringComparison.Ordinal);
        Assert.Contains("max mem slots      509\n", text, StringComparison.Ordinal);
        Assert.Contains("config             24 bytes\n  0000  40 41 42 43", text, StringComparison.Ordinal); // 256 … 32 refused, 24 is the size
        Assert.Equal(pair.Device.ConfigSnapshot(), report.Config);
    }

    [Fact]
    public void Run_GivenConfigSize_ReadsExactlyThat()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));

        var report = BackendProbe.Run(pair.Frontend, configSize: 8);

        Assert.Equal(new byte[] { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 }, report.Config);
    }

    [Fact]
    public void Run_PeerRefusesLargeConfig_FallsBackToLargestAcceptedSize()
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(BackendPair.Timeout);
        var config = Enumerable.Range(0, 60).Select(i => (byte)i).ToArray();
        ulong protocol = (ulong)(ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck | ProtocolFeatures.Config | ProtocolFeatures.LogShmfd);
        using var peer = new ScriptedBackend(backendEnd, config, 0x1_7000_0046, protocol);
        using var frontend = new VhostUserFrontend(frontendEnd);

        var report = BackendProbe.Run(frontend, configSize: null);
        string text = ReportWriter.Text("qsd.sock", report);

        Assert.Equal(config, report.Config);
        Assert.Equal(["GetConfig 256", "GetConfig 136", "GetConfig 128", "GetConfig 96", "GetConfig 64", "GetConfig 60"],
            peer.Seen.Where(s => s.StartsWith("GetConfig", StringComparison.Ordinal)));
        Assert.Equal(2UL, report.QueueCount);
        Assert.Null(report.MaxMemorySlots); // CONFIGURE_MEM_SLOTS not offered: not asked
        Assert.DoesNotContain("GetMaxMemSlots", peer.Seen);
        Assert.Contains("bit 1, bit 2, bit 6, INDIRECT_DESC, EVENT_IDX, PROTOCOL_FEATURES, VERSION_1\n", text, StringComparison.Ordinal);
        Assert.Contains("MQ, LOG_SHMFD, REPLY_ACK, CONFIG\n", text, StringComparison.Ordinal);
        Assert.Contains("max mem slots      (no CONFIGURE_MEM_SLOTS)\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PeerWithDeviceTypeGiven_DeviceBitsByName()
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(BackendPair.Timeout);
        ulong protocol = (ulong)(ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck | ProtocolFeatures.Config);
        using var peer = new ScriptedBackend(backendEnd, new byte[60], 0x1_7000_7e46, protocol);
        using var frontend = new VhostUserFrontend(frontendEnd);

        var report = BackendProbe.Run(frontend, configSize: null);
        string text = ReportWriter.Text("qsd.sock", report, "blk");
        using var json = JsonDocument.Parse(ReportWriter.Json("qsd.sock", report, "blk"));

        Assert.Contains("device             blk (from --device)\n", text, StringComparison.Ordinal);
        Assert.Contains("SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, TOPOLOGY, CONFIG_WCE, MQ, DISCARD, WRITE_ZEROES, INDIRECT_DESC, EVENT_IDX, PROTOCOL_FEATURES, VERSION_1\n", text, StringComparison.Ordinal);
        Assert.Equal("blk", json.RootElement.GetProperty("device").GetString());
        Assert.Contains("WRITE_ZEROES", json.RootElement.GetProperty("features").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("vsock", 1UL << 1, "SEQPACKET")]
    [InlineData("net", 1UL << 63, "SPEED_DUPLEX")]
    [InlineData("net", 1UL << 5, "MAC")]
    [InlineData("gpu", 1UL << 1, "EDID")]
    [InlineData("scsi", 1UL << 1, "HOTPLUG")]
    [InlineData("fs", 1UL << 0, "NOTIFICATION")]
    [InlineData("gpio", 1UL << 0, "IRQ")]
    [InlineData("i2c", 1UL << 0, "ZERO_LENGTH_REQUEST")]
    [InlineData("snd", 1UL << 0, "CTLS")]
    [InlineData("rng", 1UL << 0, "bit 0")]
    [InlineData("input", 1UL << 3, "bit 3")]
    [InlineData(null, 1UL << 1, "bit 1")]
    public void FeatureNames_DeviceBits_NamedForTheGivenTypeOnly(string? type, ulong bit, string expected)
    {
        Assert.Equal([expected], FeatureNames.Virtio(bit, type));
        Assert.Equal(["VERSION_1"], FeatureNames.Virtio(1UL << 32, type)); // common bits keep their names
    }

    [Fact]
    public void FeatureNames_UnknownBits_PrintedAsBitNumbers()
    {
        Assert.Equal(["bit 7", "RING_RESET", "bit 63"], FeatureNames.Virtio((1UL << 7) | (1UL << 40) | (1UL << 63)));
        Assert.Equal(["STATUS", "GET_VRING_BASE_SKIP_DRAIN", "bit 24"], FeatureNames.Protocol((1UL << 16) | (1UL << 23) | (1UL << 24)));
    }

    [Fact]
    public void CommandLine_ListeningDaemonWithJson_ExitZeroAndNamesInJson()
    {
        string directory = Directory.CreateTempSubdirectory("vhostd-probe-tests-").FullName;
        string path = Path.Combine(directory, "rng.sock");
        using var daemon = new VhostUserDaemon(new FakeDevice(configSize: 8), NullLoggerFactory.Instance);
        daemon.Listen(path);
        var serving = new Thread(daemon.Serve) { IsBackground = true };
        serving.Start();
        try
        {
            var (code, stdout, stderr) = RunCommandLine("--socket-path", path, "--json", "--config-size", "4");

            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            using var json = JsonDocument.Parse(stdout);
            var root = json.RootElement;
            Assert.Equal(path, root.GetProperty("socket").GetString());
            Assert.Contains("VERSION_1", root.GetProperty("features").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("CONFIG", root.GetProperty("protocolFeatures").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(1, root.GetProperty("queues").GetInt32());
            Assert.Equal("40414243", root.GetProperty("config").GetProperty("hex").GetString());
        }
        finally
        {
            daemon.Stop();
            serving.Join(BackendPair.Timeout);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(2, "--config-size", "0", "--socket-path", "x")]
    [InlineData(2, "--config-size", "257", "--socket-path", "x")]
    [InlineData(2, "--timeout", "0", "--socket-path", "x")]
    [InlineData(2, "--timeout", "soon", "--socket-path", "x")]
    [InlineData(2, "--json")]
    [InlineData(2, "--socket-path", "x", "--bogus")]
    [InlineData(2, "--socket-path", "x", "--device", "toaster")]
    [InlineData(1, "--socket-path", "/nonexistent/vhostd-probe.sock")]
    public void CommandLine_BadInput_OneLineErrorAndExitCode(int expected, params string[] args)
    {
        var (code, stdout, stderr) = RunCommandLine(args);

        Assert.Equal(expected, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("vhost-user-probe: error: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void CommandLine_PeerClosesWithoutAnswering_ExitOne()
    {
        string directory = Directory.CreateTempSubdirectory("vhostd-probe-tests-").FullName;
        string path = Path.Combine(directory, "mute.sock");
        using var listener = UnixSocket.Listen(path);
        var closer = new Thread(() => listener.Accept()?.Dispose()) { IsBackground = true };
        closer.Start();
        try
        {
            var (code, _, stderr) = RunCommandLine("--socket-path", path, "--timeout", "2000");

            // Closed before or after the first request went out: either way one line and exit 1.
            Assert.Equal(1, code);
            Assert.StartsWith($"vhost-user-probe: error: {path}: ", stderr, StringComparison.Ordinal);
            Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            closer.Join(BackendPair.Timeout);
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (int Code, string Stdout, string Stderr) RunCommandLine(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = new ProbeCommandLine().Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
