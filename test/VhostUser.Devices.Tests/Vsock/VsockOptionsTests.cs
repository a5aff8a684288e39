using VhostUser.Backend;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockOptionsTests
{
    [Fact]
    public void ParseVm_AllKeys_BothSpellings()
    {
        var vm = VsockVmOptions.ParseVm("guest_cid=4,socket=/tmp/v4.sock,uds-path=/tmp/vm4.vsock,tx-buffer-size=65536,queue_size=256,groups=a+b");
        Assert.Equal(4ul, vm.GuestCid);
        Assert.Equal("/tmp/v4.sock", vm.Socket);
        Assert.Equal("/tmp/vm4.vsock", vm.UdsPath);
        Assert.Equal(65536u, vm.TxBufferSize);
        Assert.Equal(256, vm.QueueSize);
        Assert.Equal(["a", "b"], vm.Groups);
    }

    [Fact]
    public void ParseVm_Defaults()
    {
        var vm = VsockVmOptions.ParseVm("socket=/tmp/s,uds-path=/tmp/u");
        Assert.Equal(3ul, vm.GuestCid);
        Assert.Equal(VsockVmOptions.DefaultTxBufferSize, vm.TxBufferSize);
        Assert.Equal(["default"], vm.Groups);
    }

    [Theory]
    [InlineData("socket=/tmp/s", "uds-path is required")]
    [InlineData("uds-path=/tmp/u", "socket is required")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,guest-cid=2", "guest-cid must be 3")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,colour=red", "unknown key 'colour'")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,queue-size=100", "power of two")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,tx-buffer-size=12", "tx-buffer-size must be")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,guest-cid=x", "must be a number")]
    [InlineData("socket=/tmp/s,socket=/tmp/t,uds-path=/tmp/u", "given twice")]
    [InlineData("socket=/tmp/s,uds-path=/tmp/u,groups=a++b", "empty name")]
    public void ParseVm_BadInput_SaysWhatToFix(string text, string expected)
    {
        var e = Assert.Throws<DaemonOptionsException>(() => VsockVmOptions.ParseVm(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Connections per guest × tx-buffer-size (as pooled arrays: rounded up to a power of two) stays within 1 GiB.</summary>
    [Theory]
    [InlineData(4096u, 16384)]
    [InlineData(256u * 1024, 4096)]
    [InlineData(100_000u, 8192)]
    [InlineData(16u << 20, 64)]
    [InlineData(64u << 20, 16)]
    public void MaxConnections_FromTxBufferSize_BoundsBufferedBytes(uint txBufferSize, int connections)
    {
        var options = VsockVmOptions.Create("", 3, "/s", "/u", txBufferSize, 128, null);
        Assert.Equal(connections, options.MaxConnections);
        Assert.True((long)connections * (long)System.Numerics.BitOperations.RoundUpToPowerOf2(txBufferSize) <= VsockVmOptions.BufferBudget);
    }

    [Fact]
    public void Create_UdsPathTooLong_Refused()
    {
        var e = Assert.Throws<DaemonOptionsException>(() => VsockVmOptions.Create("", 3, "/s", "/tmp/" + new string('x', 100), 65536, 128, null));
        Assert.Contains("too long", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("guest-cid=3,socket=/a,uds-path=/u1", "guest-cid=3,socket=/b,uds-path=/u2", "guest-cid 3 is used by two guests")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/u1", "guest-cid=4,socket=/a,uds-path=/u2", "socket /a is used by two guests")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/u1", "guest-cid=4,socket=/b,uds-path=/u1", "uds-path /u1 is used by two guests")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/vd/v", "guest-cid=4,socket=/b,uds-path=/vd/v_5000", "uds-path of guest 4, /vd/v_5000, is where guest 3 connects for host port 5000")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/vd/v_5000", "guest-cid=4,socket=/b,uds-path=/vd/v", "uds-path of guest 3, /vd/v_5000, is where guest 4 connects for host port 5000")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/vd/v", "guest-cid=4,socket=/b,uds-path=/vd/v_seqpacket", "seqpacket listener of guest 3 is also the uds-path of guest 4")]
    [InlineData("guest-cid=3,socket=/vd/v_77,uds-path=/vd/v", "guest-cid=4,socket=/b,uds-path=/vd/w", "vhost-user socket of guest 3, /vd/v_77, is where guest 3 connects for host port 77")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/vd/v", "guest-cid=4,socket=/vd/v_seqpacket,uds-path=/vd/w", "seqpacket listener of guest 3 is also the vhost-user socket of guest 4")]
    [InlineData("guest-cid=3,socket=/a,uds-path=/vd/v", "guest-cid=4,socket=/b,uds-path=/vd/./v_4294967295", "is where guest 3 connects for host port 4294967295")]
    public void CheckDistinct_Duplicates_Refused(string first, string second, string expected)
    {
        var e = Assert.Throws<DaemonOptionsException>(() => VsockVmOptions.CheckDistinct([VsockVmOptions.ParseVm(first), VsockVmOptions.ParseVm(second)]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Paths that look alike but that no guest can reach: not a port the daemon would append.</summary>
    [Theory]
    [InlineData("/vd/v2")]
    [InlineData("/vd/v_05")]
    [InlineData("/vd/v_4294967296")]
    [InlineData("/vd/v_x")]
    [InlineData("/vd/v_seqpacket2")]
    public void CheckDistinct_SimilarPaths_Accepted(string other)
    {
        VsockVmOptions.CheckDistinct([VsockVmOptions.ParseVm("guest-cid=3,socket=/a,uds-path=/vd/v"), VsockVmOptions.ParseVm($"guest-cid=4,socket=/b,uds-path={other}")]);
    }

    [Fact]
    public void ConfigFile_VhostDeviceVsockShape_Parsed()
    {
        const string Yaml = """
            # two guests
            vms:
                - guest_cid: 3
                  socket: /tmp/vhost3.socket   # comment after a value
                  uds_path: "/tmp/vm3.vsock"
                  groups: group1+groupA
                -
                  guest-cid: 4
                  socket: '/tmp/vhost4.socket'
                  uds-path: /tmp/vm4.vsock
                  tx_buffer_size: 32768
                  queue_size: 256
            """;
        var vms = VsockConfigFile.Parse(Yaml, "test.yaml");
        Assert.Equal(2, vms.Count);
        Assert.Equal(3ul, vms[0].GuestCid);
        Assert.Equal("/tmp/vm3.vsock", vms[0].UdsPath);
        Assert.Equal(["group1", "groupA"], vms[0].Groups);
        Assert.Equal("/tmp/vhost4.socket", vms[1].Socket);
        Assert.Equal(32768u, vms[1].TxBufferSize);
        Assert.Equal(256, vms[1].QueueSize);
    }

    [Theory]
    [InlineData("guests:\n  - socket: /a\n", "line 1: expected 'vms:'")]
    [InlineData("vms:\n  socket: /a\n", "line 2: expected '- '")]
    [InlineData("vms:\n  - socket /a\n", "line 2: expected 'key: value'")]
    [InlineData("vms:\n", "no guests")]
    [InlineData("vms:\n  - socket: /a\n    color: red\n    uds_path: /u\n", "unknown key 'color'")]
    public void ConfigFile_BadYaml_LineNumberInMessage(string yaml, string expected)
    {
        var e = Assert.Throws<DaemonOptionsException>(() => VsockConfigFile.Parse(yaml, "bad.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
