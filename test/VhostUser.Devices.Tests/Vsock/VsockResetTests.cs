using System.Net.Sockets;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

/// <summary>
/// Resets owed to the guest are never lost, however many pile up while the guest posts no rx
/// buffers: a lost RST leaves a guest socket waiting forever (its connect, or its reads).
/// </summary>
public sealed class VsockResetTests
{
    private const int Count = 4200; // more than the 4096 replies the device used to queue

    [Fact]
    public void ResetConnections_NoRxBuffers_EveryRstDeliveredLater()
    {
        using var host = new VsockTestHost(3, txBufferSize: 64 * 1024, rxBuffers: 0); // 64 KiB buffers: 16384 connections allowed
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(host.UdsPath + "_1234"));
        listener.Listen(4096);
        var accepted = new List<Socket>();
        var acceptor = new Thread(() =>
        {
            try
            {
                while (accepted.Count < Count)
                {
                    accepted.Add(listener.Accept());
                }
            }
            catch (SocketException)
            {
                // the test failed and closed the listener
            }
        });
        acceptor.Start();
        var guest = host.Guest;
        // Open the connections; the guest takes each RESPONSE.
        for (uint i = 0; i < Count; i++)
        {
            guest.Send(guest.Header(10_000 + i, 2, 1234, VsockOp.Request));
            guest.AddRxBuffers(1);
            Assert.Equal(VsockOp.Response, guest.ReceiveNoRefill(VsockGuestDriver.Timeout).Header.Op);
        }
        Assert.True(acceptor.Join(TimeSpan.FromSeconds(30)));

        // With no rx buffer posted, the guest breaks every connection (an op the device does not know): each owes an RST.
        for (uint i = 0; i < Count; i++)
        {
            guest.Send(guest.Header(10_000 + i, 2, 1234, (VsockOp)99));
        }
        var reset = ReceiveResets(guest, Count);
        Assert.Equal(Count, reset.Count);
        accepted.ForEach(s => s.Dispose());
    }

    [Fact]
    public void RefusedConnects_NoRxBuffers_EveryRstDeliveredLater()
    {
        using var host = new VsockTestHost(3, rxBuffers: 0);
        var guest = host.Guest;
        for (uint i = 0; i < Count; i++)
        {
            guest.Send(guest.Header(10_000 + i, 2, 4321, VsockOp.Request)); // nobody listens on _4321
        }
        var reset = ReceiveResets(guest, Count);
        Assert.Equal(Count, reset.Count);
    }

    [Fact]
    public void PendingRst_GuestReusesTheAddress_NewConnectionNotReset()
    {
        using var host = new VsockTestHost(3, rxBuffers: 1);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        var guest = host.Guest;
        guest.Send(guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, guest.ReceiveNoRefill(VsockGuestDriver.Timeout).Header.Op);
        using var first = HostSockets.Accept(listener);
        guest.Send(guest.Header(40000, 2, 1234, (VsockOp)99)); // RST owed, no rx buffer to carry it
        guest.Send(guest.Header(40000, 2, 1234, VsockOp.Request)); // the guest's old socket is gone: a new one on the same port
        guest.AddRxBuffers(4);
        Assert.Equal(VsockOp.Response, guest.Receive().Header.Op);
        Assert.Null(guest.TryReceive(TimeSpan.FromMilliseconds(300)));
        using var second = HostSockets.Accept(listener);
        guest.Send(guest.Header(40000, 2, 1234, VsockOp.Rw), "new"u8);
        Assert.Equal("new", System.Text.Encoding.ASCII.GetString(HostSockets.ReadExactly(second, 3)));
    }

    /// <summary>Posts rx buffers and collects RSTs (by guest port) until <paramref name="expected"/> came or the device went quiet.</summary>
    private static HashSet<uint> ReceiveResets(VsockGuestDriver guest, int expected)
    {
        guest.AddRxBuffers(guest.QueueSize);
        var reset = new HashSet<uint>();
        while (reset.Count < expected && guest.TryReceive(TimeSpan.FromSeconds(1)) is { } packet)
        {
            Assert.Equal(VsockOp.Rst, packet.Header.Op);
            Assert.True(reset.Add(packet.Header.DstPort), $"a second RST for guest port {packet.Header.DstPort}");
        }
        return reset;
    }
}
