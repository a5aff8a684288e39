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

    /// <summary>
    /// A stream of tiny packets within credit while the receiving guest takes no rx buffers:
    /// every byte arrives, in order, and neither side is reset (the mailbox used to hold 16384
    /// packets and then reset the sender alone, leaving the receiver with a hole in its stream).
    /// </summary>
    [Fact]
    public void TinyPacketsWithinCredit_ReceiverSlow_EveryByteArrives()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, registry: registry);
        Connect(a, b);
        const int Count = 20_000;
        for (int i = 0; i < Count; i++)
        {
            a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Rw), [(byte)i]);
        }
        var got = ReceiveData(b, Count);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (byte)i), got);
        Assert.Null(a.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>More than the mailbox's old 32 MiB over many connections, each within its credit: nothing is reset.</summary>
    [Fact]
    public void ManyConnectionsWithinCredit_ReceiverSlow_EveryByteArrives()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, registry: registry);
        const int Connections = 132, Chunk = 64 * 1024, Chunks = 4;
        for (uint c = 0; c < Connections; c++)
        {
            Connect(a, b, 1000 + c);
        }
        var chunk = new byte[Chunk];
        for (int n = 0; n < Chunks; n++)
        {
            for (uint c = 0; c < Connections; c++)
            {
                chunk.AsSpan().Fill((byte)(c + n));
                a.Guest.Send(a.Guest.Header(1000 + c, 4, 2000, VsockOp.Rw), chunk);
            }
        }
        var bytes = new Dictionary<uint, long>();
        for (long total = 0; total < (long)Connections * Chunk * Chunks;)
        {
            var (header, payload) = b.Guest.Receive();
            Assert.Equal(VsockOp.Rw, header.Op);
            bytes[header.SrcPort] = bytes.GetValueOrDefault(header.SrcPort) + payload.Length;
            total += payload.Length;
        }
        Assert.All(bytes.Values, n => Assert.Equal(Chunk * Chunks, n));
        Assert.Null(a.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>A sender beyond its credit is reset, and so is the receiver's end: it gets what fit, then RST.</summary>
    [Fact]
    public void SenderBeyondCredit_BothEndsReset()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, txBufferSize: 64 * 1024, registry: registry, rxBuffers: 1);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Request));
        Assert.Equal(VsockOp.Request, b.Guest.ReceiveNoRefill(VsockGuestDriver.Timeout).Header.Op);
        b.Guest.Send(b.Guest.Header(2000, 3, 1000, VsockOp.Response));
        Assert.Equal(VsockOp.Response, a.Guest.Receive().Header.Op);
        // B takes no rx buffers; A ignores the 64 KiB its sibling can hold.
        for (int i = 0; i < 16; i++)
        {
            a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Rw), new byte[8192]);
        }
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
        b.Guest.AddRxBuffers(64);
        long data = 0;
        while (true)
        {
            var (header, payload) = b.Guest.Receive();
            if (header.Op == VsockOp.Rst)
            {
                break;
            }
            Assert.Equal(VsockOp.Rw, header.Op);
            data += payload.Length;
        }
        Assert.InRange(data, 0, 64 * 1024);
        Assert.Null(b.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
        Assert.Null(a.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>A malformed data packet (len beyond its buffer) for a sibling connection resets both ends.</summary>
    [Fact]
    public void MalformedPacket_SiblingConnection_BothEndsReset()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, registry: registry);
        Connect(a, b);
        var lying = a.Guest.Header(1000, 4, 2000, VsockOp.Rw);
        lying.Len = 1000;
        a.Guest.SendRaw(lying, "abc"u8);
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
        var (reset, _) = b.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reset.Op);
        Assert.Equal((3ul, 1000u, 2000u), (reset.SrcCid, reset.SrcPort, reset.DstPort));
    }

    /// <summary>A packet with an op that does not exist is never passed to the sibling: the connection is reset at both ends.</summary>
    [Theory]
    [InlineData((ushort)0)]
    [InlineData((ushort)8)]
    [InlineData((ushort)14891)]
    public void UnknownOp_SiblingConnection_BothEndsResetNothingForwarded(ushort op)
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, registry: registry);
        Connect(a, b);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, (VsockOp)op));
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
        var (reset, _) = b.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reset.Op);
        Assert.Equal((3ul, 1000u, 2000u), (reset.SrcCid, reset.SrcPort, reset.DstPort));
        Assert.Null(b.Guest.TryReceive(TimeSpan.FromMilliseconds(100)));
    }

    /// <summary>The credit a guest grants its sibling is capped at what its mailbox holds per connection (its tx-buffer-size).</summary>
    [Fact]
    public void ReceiverGrantsHugeBuffer_SenderSeesTxBufferSize()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, txBufferSize: 128 * 1024, registry: registry);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Request));
        Assert.Equal(VsockOp.Request, b.Guest.Receive().Header.Op);
        b.Guest.Send(b.Guest.Header(2000, 3, 1000, VsockOp.Response, bufAlloc: 64 << 20));
        Assert.Equal(128u * 1024, a.Guest.Receive().Header.BufAlloc);
    }

    /// <summary>Seqpacket reaches a sibling only if that guest negotiated it.</summary>
    [Fact]
    public void SeqPacket_ReceiverWithoutSeqPacket_RstAndNothingForwarded()
    {
        var registry = new VsockRegistry();
        using var a = new VsockTestHost(3, registry: registry);
        using var b = new VsockTestHost(4, registry: registry, seqPacket: false);
        a.Guest.Send(a.Guest.Header(1000, 4, 2000, VsockOp.Request, VsockType.SeqPacket));
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
        Assert.Null(b.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
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

    /// <summary>A's port <paramref name="port"/> connects to B's port 2000.</summary>
    private static void Connect(VsockTestHost a, VsockTestHost b, uint port = 1000)
    {
        a.Guest.Send(a.Guest.Header(port, 4, 2000, VsockOp.Request));
        Assert.Equal(VsockOp.Request, b.Guest.Receive().Header.Op);
        b.Guest.Send(b.Guest.Header(2000, 3, port, VsockOp.Response));
        Assert.Equal(VsockOp.Response, a.Guest.Receive().Header.Op);
    }

    /// <summary>B's guest reads <paramref name="count"/> data bytes.</summary>
    private static List<byte> ReceiveData(VsockTestHost b, int count)
    {
        var got = new List<byte>();
        while (got.Count < count)
        {
            var (header, payload) = b.Guest.Receive();
            Assert.Equal(VsockOp.Rw, header.Op);
            got.AddRange(payload);
        }
        return got;
    }

    [Fact]
    public void UnknownCid_Rst()
    {
        using var a = new VsockTestHost(3);
        a.Guest.Send(a.Guest.Header(1000, 42, 2000, VsockOp.Request));
        Assert.Equal(VsockOp.Rst, a.Guest.Receive().Header.Op);
    }
}
