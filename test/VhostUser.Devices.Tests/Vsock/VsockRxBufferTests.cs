using System.Net.Sockets;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

/// <summary>
/// Host data reaches the guest in order whatever shape its rx buffers have: one host read fills
/// several buffers at once (readv), buffers may come in pieces (older Linux posted the header and
/// the payload as two descriptors), and a buffer in more pieces than one read's vector array
/// holds is still filled.
/// </summary>
public sealed class VsockRxBufferTests
{
    [Theory]
    [InlineData(new uint[] { 44 + 4096 })]
    [InlineData(new uint[] { 44, 4096 })]
    [InlineData(new uint[] { 20, 1000, 3000, 120 })]
    [InlineData(new uint[] { 44 + 60 })]
    public void HostToGuest_RxBufferShapes_BytesInOrder(uint[] pieces)
    {
        using var host = new VsockTestHost(3, rxBuffers: 1);
        var (guest, client, hostPort) = Connect(host);
        for (int i = 0; i < 120 / pieces.Length; i++)
        {
            guest.AddRxBuffer(pieces);
        }
        var data = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7 + (i >> 9))).ToArray();
        client.Send(data);
        var received = ReceiveData(guest, hostPort, data.Length, refill: pieces);
        Assert.Equal(data, received);
        client.Dispose();
    }

    [Fact]
    public void HostToGuest_BufferInMorePiecesThanOneRead_StillFilled()
    {
        using var host = new VsockTestHost(3, queueSize: 256, rxBuffers: 1);
        var (guest, client, hostPort) = Connect(host);
        var many = Enumerable.Repeat(24u, 200).ToArray(); // 200 pieces: more iovecs than a batch holds
        guest.AddRxBuffer(many);
        guest.AddRxBuffer(44 + 4096);
        var data = Enumerable.Range(0, 6000).Select(i => (byte)(i * 13)).ToArray();
        client.Send(data);
        var received = ReceiveData(guest, hostPort, data.Length, refill: [44 + 4096]);
        Assert.Equal(data, received);
    }

    /// <summary>A host-initiated connection; the guest started with one rx buffer, which the REQUEST used.</summary>
    private static (VsockGuestDriver Guest, Socket Client, uint HostPort) Connect(VsockTestHost host)
    {
        var guest = host.Guest;
        var client = HostSockets.Connect(host.UdsPath);
        HostSockets.SendText(client, "CONNECT 7000\n");
        var (request, _) = guest.ReceiveNoRefill(VsockGuestDriver.Timeout);
        guest.Send(guest.Header(7000, 2, request.SrcPort, VsockOp.Response));
        Assert.Equal(request.SrcPort, HostSockets.ReadOk(client));
        return (guest, client, request.SrcPort);
    }

    private static byte[] ReceiveData(VsockGuestDriver guest, uint hostPort, int length, uint[] refill)
    {
        var received = new List<byte>();
        uint consumed = 0;
        while (received.Count < length)
        {
            var (header, payload) = guest.ReceiveNoRefill(VsockGuestDriver.Timeout);
            if (header.Op == VsockOp.Rw)
            {
                Assert.Equal(hostPort, header.SrcPort);
                received.AddRange(payload);
                consumed += (uint)payload.Length;
                guest.Send(guest.Header(7000, 2, hostPort, VsockOp.CreditUpdate, fwdCnt: consumed));
            }
            guest.AddRxBuffer(refill);
        }
        return received.ToArray();
    }
}
