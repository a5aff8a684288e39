using System.Net.Sockets;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockSeqPacketTests
{
    private const ulong Cid = 9;

    [Fact]
    public void GuestToHost_MessagesInPieces_ArriveWholeAndInOrder()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_77", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 77, VsockOp.Request, VsockType.SeqPacket));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var server = HostSockets.Accept(listener);

        int[] sizes = [1, 0, 100, 4096, 5000, 70_000];
        foreach (int size in sizes)
        {
            byte[] message = Enumerable.Range(0, size).Select(i => (byte)(i + size)).ToArray();
            // Split into pieces of at most 3000 bytes; EOM on the last (Linux splits at 64 KiB).
            int offset = 0;
            do
            {
                int n = Math.Min(3000, size - offset);
                var header = host.Guest.Header(40000, 2, 77, VsockOp.Rw, VsockType.SeqPacket);
                header.Flags = offset + n == size ? VsockFlags.EndOfMessage : 0;
                host.Guest.Send(header, message.AsSpan(offset, n));
                offset += n;
            }
            while (offset < size);
            var buffer = new byte[100_000];
            int got = server.Receive(buffer);
            Assert.Equal(message, buffer[..got]);
        }
    }

    /// <summary>
    /// A message as large as the credit allows reaches the host whole. Linux sends it in 64 KiB
    /// packets (or one, from a driver that does not split), and the host socket must take it in
    /// one send: its default send buffer (212992 bytes) would refuse 250 KiB with EMSGSIZE.
    /// </summary>
    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(250 * 1024)]
    public void GuestToHost_MessageWithinCredit_ArrivesWhole(int piece)
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_77", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 77, VsockOp.Request, VsockType.SeqPacket));
        var (response, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Response, response.Op);
        using var server = HostSockets.Accept(listener);
        server.ReceiveBufferSize = 1 << 20;

        const int Size = 250 * 1024;
        Assert.True(Size <= response.BufAlloc, $"buf_alloc {response.BufAlloc}");
        byte[] message = Enumerable.Range(0, Size).Select(i => (byte)(i * 7 + (i >> 8))).ToArray();
        SendMessage(host.Guest, 40000, 77, message, piece);
        var buffer = new byte[Size + 1];
        int got = server.Receive(buffer);
        Assert.Equal(Size, got);
        Assert.Equal(message, buffer[..got]);
        Assert.False(host.Guest.TryReceive(TimeSpan.FromMilliseconds(200)) is { Header.Op: VsockOp.Rst }, "the device reset the connection");
    }

    /// <summary>
    /// A tx-buffer-size larger than an AF_UNIX datagram can be (Linux cannot queue one much beyond
    /// 4 MiB) is not promised for seqpacket: buf_alloc is capped, and a message of exactly
    /// buf_alloc still arrives whole.
    /// </summary>
    [Fact]
    public void GuestToHost_LargeTxBuffer_BufAllocCappedAndFullMessageArrives()
    {
        using var host = new VsockTestHost(Cid, txBufferSize: 16 << 20);
        using var listener = HostSockets.Listen(host.UdsPath + "_77", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 77, VsockOp.Request, VsockType.SeqPacket));
        var (response, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Response, response.Op);
        Assert.InRange(response.BufAlloc, 64u * 1024, VsockDevice.MaxSeqPacketMessage);
        using var server = HostSockets.Accept(listener);

        byte[] message = Enumerable.Range(0, (int)response.BufAlloc).Select(i => (byte)(i % 251)).ToArray();
        SendMessage(host.Guest, 40000, 77, message, 64 * 1024);
        var buffer = new byte[message.Length + 1];
        Assert.Equal(message.Length, server.Receive(buffer));
        Assert.Equal(message, buffer[..message.Length]);
    }

    /// <summary>
    /// A zero-length message and the end of the connection both read as 0 bytes on a seqpacket
    /// socket; the device must tell them apart. The host sends empty messages and closes before
    /// the guest has rx buffers (so the device sees the hang-up before it reads): the guest gets
    /// each message exactly once, then SHUTDOWN, and nothing more.
    /// </summary>
    [Theory]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 0, 1, 0 })]
    [InlineData(new[] { 3 })]
    public void HostToGuest_EmptyMessagesThenClose_EachOnceThenShutdown(int[] sizes)
    {
        using var host = new VsockTestHost(Cid, rxBuffers: 1);
        using var listener = HostSockets.Listen(host.UdsPath + "_77", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 77, VsockOp.Request, VsockType.SeqPacket));
        Assert.Equal(VsockOp.Response, host.Guest.ReceiveNoRefill(VsockGuestDriver.Timeout).Header.Op);
        var server = HostSockets.Accept(listener);
        foreach (int size in sizes)
        {
            server.Send(new byte[size]);
        }
        server.Dispose();
        Thread.Sleep(200);
        host.Guest.AddRxBuffers(8);

        var packets = ReceiveUntilQuiet(host.Guest);
        Assert.Equal(sizes.Select(_ => VsockOp.Rw).Append(VsockOp.Shutdown), packets.Select(p => p.Header.Op));
        Assert.Equal(sizes, packets.SkipLast(1).Select(p => p.Payload.Length));
        Assert.All(packets.SkipLast(1), p => Assert.Equal(VsockFlags.EndOfMessage, p.Header.Flags & VsockFlags.EndOfMessage));
        Assert.Equal(VsockFlags.ShutdownSend, packets[^1].Header.Flags & VsockFlags.ShutdownSend);
    }

    /// <summary>Empty messages from a host that stays connected are each delivered once, in order with the others.</summary>
    [Fact]
    public void HostToGuest_EmptyMessagesWithoutClose_EachDeliveredOnce()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_77", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 77, VsockOp.Request, VsockType.SeqPacket));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var server = HostSockets.Accept(listener);
        byte[][] messages = [[], [], "x"u8.ToArray(), [], [], [], "yz"u8.ToArray(), []];
        foreach (var message in messages)
        {
            server.Send(message);
        }

        var packets = ReceiveUntilQuiet(host.Guest);
        Assert.All(packets, p => Assert.Equal(VsockOp.Rw, p.Header.Op));
        Assert.All(packets, p => Assert.Equal(VsockFlags.EndOfMessage, p.Header.Flags & VsockFlags.EndOfMessage));
        Assert.Equal(messages.Select(m => Convert.ToHexString(m)), packets.Select(p => Convert.ToHexString(p.Payload)));
    }

    /// <summary>Everything the device sends until it has been silent for half a second.</summary>
    private static List<(VsockHeader Header, byte[] Payload)> ReceiveUntilQuiet(VsockGuestDriver guest)
    {
        var packets = new List<(VsockHeader Header, byte[] Payload)>();
        while (guest.TryReceive(TimeSpan.FromMilliseconds(500)) is { } packet)
        {
            packets.Add(packet);
            Assert.True(packets.Count < 1000, "the device keeps sending");
        }
        return packets;
    }

    /// <summary>Sends one seqpacket message in pieces of at most <paramref name="piece"/> bytes, EOM on the last.</summary>
    private static void SendMessage(VsockGuestDriver guest, uint srcPort, uint dstPort, byte[] message, int piece)
    {
        for (int offset = 0; offset < message.Length; offset += piece)
        {
            int n = Math.Min(piece, message.Length - offset);
            var header = guest.Header(srcPort, 2, dstPort, VsockOp.Rw, VsockType.SeqPacket);
            header.Flags = offset + n == message.Length ? VsockFlags.EndOfMessage : 0;
            guest.Send(header, message.AsSpan(offset, n));
        }
    }

    [Fact]
    public void HostToGuest_LargeMessage_SplitWithEomOnLastPiece()
    {
        using var host = new VsockTestHost(Cid);
        using var client = HostSockets.Connect(host.UdsPath + "_seqpacket", SocketType.Seqpacket);
        client.Send("CONNECT 88\n"u8);
        var (request, _) = host.Guest.Receive();
        Assert.Equal(VsockType.SeqPacket, request.Type);
        host.Guest.Send(host.Guest.Header(88, 2, request.SrcPort, VsockOp.Response, VsockType.SeqPacket));
        var ok = new byte[64];
        Assert.Equal($"OK {request.SrcPort}\n", System.Text.Encoding.ASCII.GetString(ok, 0, client.Receive(ok)));

        byte[] first = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        client.Send(first);
        client.Send("second"u8);
        var pieces = new List<byte>();
        while (true)
        {
            var (header, payload) = host.Guest.ReceiveOp(VsockOp.Rw);
            pieces.AddRange(payload);
            if ((header.Flags & VsockFlags.EndOfMessage) != 0)
            {
                break;
            }
            Assert.True(payload.Length <= VsockGuestDriver.RxPayload);
        }
        Assert.Equal(first, pieces.ToArray());
        var (last, bytes) = host.Guest.ReceiveOp(VsockOp.Rw);
        Assert.Equal(VsockFlags.EndOfMessage, last.Flags);
        Assert.Equal("second"u8.ToArray(), bytes);
    }
}
