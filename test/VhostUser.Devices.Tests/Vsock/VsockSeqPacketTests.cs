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
        Assert.Equal("OK 88\n", System.Text.Encoding.ASCII.GetString(ok, 0, client.Receive(ok)));

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
