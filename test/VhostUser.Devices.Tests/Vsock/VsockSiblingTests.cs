using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockSiblingTests
{
    [Fact]
    public void SameGroup_GuestToGuest_PacketsPassBothWays()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, groups: "lab+x", registry: registry);
        using var b = new VsockTestHost(4, groups: "lab", registry: registry);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Request));
        var (request, _) = b.Guest.Receive();
        Assert.Equal(VsockOp.Request, request.Op);
        Assert.Equal(3ul, request.SrcCid);
        Assert.Equal(4ul, request.DstCid);
        b.Guest.Send(b.Guest.Header(2000, 3, 1000, VsockOp.Response));
        Assert.Equal(VsockOp.Response, a.Guest.Receive().Header.Op);

        // 10000 bytes from A arrive in B's 4 KiB buffers, in order.
        byte[] data = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 3)).ToArray();
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Rw), data);
        var got = new List<byte>();
        while (got.Count < data.Length)
        {
            var (header, payload) = b.Guest.Receive();
            Assert.Equal(VsockOp.Rw, header.Op);
            got.AddRange(payload);
        }
        Assert.Equal(data, got.ToArray());
    }

    [Fact]
    public void DifferentGroups_GuestToGuest_Rst()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, groups: "red", registry: registry);
        using var b = new VsockTestHost(4, groups: "blue", registry: registry);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Request));
        var (reply, _) = a.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reply.Op);
        Assert.Equal(4ul, reply.SrcCid);
        Assert.Null(b.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void UnknownCid_Rst()
    {
        using var a = new VsockTestHost(3);
        a.Guest.Send(a.Guest.Header(1000, 42, 2000, VsockOp.Request));
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
    }
}
