// ConfigTests.cs — the device config space over vhost-user (vhost-user-protocol.md §3 "device
// config", §4 GET_CONFIG/SET_CONFIG, §5 BACKEND_CONFIG_CHANGE_MSG).
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests;

public sealed class ConfigTests
{
    [Fact]
    public void GetConfig_WholeSpace_ReturnsDeviceBytes()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        var bytes = pair.Frontend.GetConfig(0, 24);

        Assert.Equal(pair.Device.ConfigSnapshot(), bytes);
        Assert.Equal(0x40, bytes[0]);
        Assert.Equal(0x57, bytes[23]);
    }

    [Fact]
    public void GetConfig_OffsetInside_ReturnsThatSlice()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        Assert.Equal(new byte[] { 0x44, 0x45, 0x46 }, pair.Frontend.GetConfig(4, 3));
    }

    [Theory]
    [InlineData(20u, 12u)]  // straddles the end
    [InlineData(0u, 25u)]   // one byte too many
    [InlineData(100u, 156u)] // wholly past it
    public void GetConfig_PastDeviceConfigSize_RefusedWithAZeroSizeReply(uint offset, uint size)
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        // rst GET_CONFIG: a zero-size reply is the error; libvhost-user refuses the same way, and
        // a front end learns the size by asking (vhost-user-probe does).
        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.GetConfig(offset, size));

        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.Equal(new byte[] { 0x54, 0x55, 0x56, 0x57 }, pair.Frontend.GetConfig(20, 4)); // the connection goes on
    }

    [Fact]
    public void SetConfig_WritableDevice_NextGetConfigSeesIt()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        pair.Frontend.SetConfig(8, [1, 2, 3, 4]);

        Assert.Equal(new byte[] { 0x47, 1, 2, 3, 4, 0x4c }, pair.Frontend.GetConfig(7, 6));
        Assert.Contains("config write 8 4", pair.Device.Events);
    }

    [Fact]
    public void SetConfig_DeviceRefuses_FailedReplyAck()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24) { ConfigWritable = false });
        pair.Frontend.Negotiate();

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.SetConfig(0, [9]));

        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.Equal(0x40, pair.Frontend.GetConfig(0, 1)[0]);
    }

    [Fact]
    public void SetConfig_PastDeviceConfigSize_FailedReplyAck()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.SetConfig(22, [1, 2, 3, 4]));

        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.DoesNotContain(pair.Device.Events, x => x.StartsWith("config write", StringComparison.Ordinal));
    }

    [Fact]
    public void GetConfig_DeviceWithoutConfig_ZeroSizeReply()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate();

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.GetConfig(0, 4));

        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.NotEqual(0UL, (ulong)pair.Frontend.GetFeatures());
    }

    [Fact]
    public void NotifyConfigChanged_BackendChannelOpen_FrontEndReceivesConfigChangeMessage()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(BackendPair.Timeout);
        using var channel = new VhostUserConnection(frontendEnd);
        pair.Frontend.SetBackendReqFd(backendEnd);
        backendEnd.Dispose(); // the back end holds its own copy now

        Assert.True(pair.Device.ChangeConfig(0, [0xAB]));

        using var message = channel.Receive();
        Assert.NotNull(message);
        Assert.Equal((uint)BackendRequest.ConfigChangeMsg, message.Header.Request);
        Assert.Equal(HeaderFlags.Version1, message.Header.Flags);
        Assert.Equal(0u, message.Header.Size);
        Assert.Equal(0xAB, pair.Frontend.GetConfig(0, 1)[0]); // what QEMU does next
    }

    [Fact]
    public void NotifyConfigChanged_NoBackendChannel_ReturnsFalse()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate();

        Assert.False(pair.Device.ChangeConfig(0, [0xAB]));
    }

    [Fact]
    public void SetBackendReqFd_WithoutBackendReqNegotiated_FailedReplyAck()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        pair.Frontend.Negotiate(ProtocolFeatures.ReplyAck | ProtocolFeatures.Config);
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        using (frontendEnd)
        using (backendEnd)
        {
            var e = Assert.Throws<ProtocolException>(() => pair.Frontend.SetBackendReqFd(backendEnd));
            Assert.Equal(ProtocolError.DeviceError, e.Error);
        }
        Assert.False(pair.Daemon.Context.HasBackendChannel);
    }
}
