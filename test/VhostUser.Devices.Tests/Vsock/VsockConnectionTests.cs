using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockConnectionTests
{
    private const ulong Cid = 7;

    [Fact]
    public void GetConfig_GuestCid_LittleEndian64()
    {
        using var host = new VsockTestHost(Cid);
        byte[] config = host.Daemon.Frontend.GetConfig(0, 8);
        Assert.Equal(Cid, BinaryPrimitives.ReadUInt64LittleEndian(config));
        Assert.True(((ulong)host.Guest.Features & VsockConstants.SeqPacketFeature) != 0, "SEQPACKET offered");
    }

    [Fact]
    public void HostConnect_GuestAccepts_OkLineThenDataBothWays()
    {
        using var host = new VsockTestHost(Cid);
        using var client = HostSockets.Connect(host.UdsPath);
        HostSockets.SendText(client, "CONNECT 5000\nhello");

        var (request, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Request, request.Op);
        Assert.Equal(VsockConstants.HostCid, request.SrcCid);
        Assert.Equal(Cid, request.DstCid);
        Assert.Equal(5000u, request.DstPort);
        Assert.Equal(VsockType.Stream, request.Type);

        host.Guest.Send(host.Guest.Header(5000, 2, request.SrcPort, VsockOp.Response));
        Assert.Equal($"OK {request.SrcPort}\n", HostSockets.ReadLine(client)); // the host-side port, as Firecracker
        Assert.True(request.SrcPort >= 1u << 30);

        // Bytes written after the CONNECT line were kept for the guest.
        var (data, payload) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rw, data.Op);
        Assert.Equal("hello", Encoding.ASCII.GetString(payload));

        host.Guest.Send(host.Guest.Header(5000, 2, request.SrcPort, VsockOp.Rw), "world"u8);
        Assert.Equal("world", Encoding.ASCII.GetString(HostSockets.ReadExactly(client, 5)));
    }

    [Fact]
    public void HostConnect_GuestRefuses_HostSocketClosedWithoutOk()
    {
        using var host = new VsockTestHost(Cid);
        using var client = HostSockets.Connect(host.UdsPath);
        HostSockets.SendText(client, "connect 81\n");
        var (request, _) = host.Guest.Receive();
        host.Guest.Send(host.Guest.Header(81, 2, request.SrcPort, VsockOp.Rst));
        Assert.Empty(HostSockets.ReadToEnd(client));
    }

    [Theory]
    [InlineData("CONNECT 1234", true, 1234u)]
    [InlineData("connect   99 ", true, 99u)]
    [InlineData("CONNECT 1234\r", true, 1234u)]
    [InlineData("CONNECT", false, 0u)]
    [InlineData("CONNECT x", false, 0u)]
    [InlineData("CONNECT 4294967296", false, 0u)]
    [InlineData("CONNECT 4294967295", false, 0u)] // VMADDR_PORT_ANY is no port to connect to
    [InlineData("CONNECTED 1", false, 0u)]
    [InlineData("GET / HTTP/1.0", false, 0u)]
    public void TryParseConnect_Line_PortOrRefusal(string line, bool ok, uint port)
    {
        Assert.Equal(ok, VsockDevice.TryParseConnect(Encoding.ASCII.GetBytes(line), out uint parsed));
        Assert.Equal(port, parsed);
    }

    /// <summary>A host program that sends part of a CONNECT line and closes is let go at once, not after the 10 s handshake timeout.</summary>
    [Fact]
    public void HostConnect_PartialLineThenEof_ClosedAtOnce()
    {
        using var host = new VsockTestHost(Cid);
        using var client = HostSockets.Connect(host.UdsPath);
        HostSockets.SendText(client, "CONNECT 50");
        Thread.Sleep(100); // the device sees the partial line first
        client.Shutdown(SocketShutdown.Send);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            Assert.Empty(HostSockets.ReadToEnd(client));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // closed with the partial line unread: as good as EOF
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"closed after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void HostConnect_BadLine_SocketClosed()
    {
        using var host = new VsockTestHost(Cid);
        using var client = HostSockets.Connect(host.UdsPath);
        HostSockets.SendText(client, "HELLO 5000\n");
        Assert.Empty(HostSockets.ReadToEnd(client));
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void GuestConnect_HostListening_ResponseAndEcho()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        var (response, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Response, response.Op);
        Assert.Equal(40000u, response.DstPort);
        Assert.Equal(1234u, response.SrcPort);
        Assert.Equal(256u * 1024, response.BufAlloc);

        using var server = HostSockets.Accept(listener);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), "ping"u8);
        Assert.Equal("ping", Encoding.ASCII.GetString(HostSockets.ReadExactly(server, 4)));
        server.Send("pong"u8);
        var (data, payload) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rw, data.Op);
        Assert.Equal("pong", Encoding.ASCII.GetString(payload));
    }

    /// <summary>With 64 MiB per connection a guest may have 16 connections (1 GiB of buffers at most); the 17th is refused.</summary>
    [Fact]
    public void GuestConnect_BeyondConnectionLimit_Rst()
    {
        using var host = new VsockTestHost(Cid, txBufferSize: 64 << 20);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        for (uint i = 0; i < 16; i++)
        {
            host.Guest.Send(host.Guest.Header(40000 + i, 2, 1234, VsockOp.Request));
            Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        }
        host.Guest.Send(host.Guest.Header(40016, 2, 1234, VsockOp.Request));
        var (reply, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reply.Op);
        Assert.Equal(40016u, reply.DstPort);
    }

    [Fact]
    public void GuestConnect_NoListener_Rst()
    {
        using var host = new VsockTestHost(Cid);
        host.Guest.Send(host.Guest.Header(40000, 2, 4321, VsockOp.Request));
        var (reply, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reply.Op);
        Assert.Equal(4321u, reply.SrcPort);
        Assert.Equal(40000u, reply.DstPort);
    }

    [Fact]
    public void UnknownConnection_Rw_RstButNeverRstForRst()
    {
        using var host = new VsockTestHost(Cid);
        host.Guest.Send(host.Guest.Header(1, 2, 2, VsockOp.Rst));
        host.Guest.Send(host.Guest.Header(1, 2, 2, VsockOp.Rw), "x"u8);
        var (reply, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reply.Op);
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void Packet_SpoofedSourceOrBadLength_DroppedAndDeviceGoesOn()
    {
        using var host = new VsockTestHost(Cid);
        var spoofed = host.Guest.Header(1, 2, 2, VsockOp.Request);
        spoofed.SrcCid = 99;
        host.Guest.Send(spoofed);
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(200)));
        // A header claiming more payload than the chain holds is not read past the chain; the
        // packet is answered with RST like any packet for no connection.
        var lying = host.Guest.Header(1, 2, 2, VsockOp.Rw);
        lying.Len = 1000;
        host.Guest.SendRaw(lying, "abc"u8);
        var (reply, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reply.Op);
        Assert.Equal(1u, reply.DstPort);
        host.Guest.Send(host.Guest.Header(40000, 2, 4321, VsockOp.Request));
        Assert.Equal(VsockOp.Rst, host.Guest.Receive().Header.Op);
    }

    /// <summary>A data packet whose len exceeds its buffer loses data: the connection is reset rather than left with a hole.</summary>
    [Fact]
    public void Rw_LenBeyondBuffer_ConnectionReset()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var server = HostSockets.Accept(listener);
        var lying = host.Guest.Header(40000, 2, 1234, VsockOp.Rw);
        lying.Len = 1000;
        host.Guest.SendRaw(lying, "abc"u8);
        var (reset, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Rst, reset.Op);
        Assert.Equal(40000u, reset.DstPort);
        Assert.Empty(HostSockets.ReadToEnd(server));
    }

    /// <summary>An RST is never answered with RST, not even one of the wrong socket type for a live connection (which it leaves alone).</summary>
    [Fact]
    public void Rst_WrongTypeForLiveConnection_NoReplyConnectionLives()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var server = HostSockets.Accept(listener);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rst, VsockType.SeqPacket));
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(300)));
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), "still"u8);
        Assert.Equal("still", Encoding.ASCII.GetString(HostSockets.ReadExactly(server, 5)));
    }

    [Fact]
    public void SeqPacketType_NotNegotiated_Rst()
    {
        using var host = new VsockTestHost(Cid, seqPacket: false);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234", SocketType.Seqpacket);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request, VsockType.SeqPacket));
        Assert.Equal(VsockOp.Rst, host.Guest.Receive().Header.Op);
    }

    [Fact]
    public void Shutdown_BothDirections_HostSeesEofGuestSeesShutdownThenRst()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var server = HostSockets.Accept(listener);

        // Guest: "no more from me" → the host reads the data, then EOF.
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), "last words"u8);
        var shutdown = host.Guest.Header(40000, 2, 1234, VsockOp.Shutdown);
        shutdown.Flags = VsockFlags.ShutdownSend;
        host.Guest.Send(shutdown);
        Assert.Equal("last words", Encoding.ASCII.GetString(HostSockets.ReadToEnd(server)));

        // Host answers and closes its sending side → data, then SHUTDOWN(SEND) to the guest.
        server.Send("reply"u8);
        server.Shutdown(SocketShutdown.Send);
        var (data, payload) = host.Guest.ReceiveOp(VsockOp.Rw);
        Assert.Equal("reply", Encoding.ASCII.GetString(payload));
        var (hostShutdown, _) = host.Guest.ReceiveOp(VsockOp.Shutdown);
        Assert.Equal(VsockFlags.ShutdownSend, hostShutdown.Flags & VsockFlags.ShutdownSend);

        // The guest closes: full SHUTDOWN, answered with RST.
        shutdown.Flags = VsockFlags.ShutdownSend | VsockFlags.ShutdownReceive;
        host.Guest.Send(shutdown);
        Assert.Equal(VsockOp.Rst, host.Guest.ReceiveOp(VsockOp.Rst).Header.Op);
        host.Daemon.Daemon.Context.Workers[0].Invoke(() => Assert.Equal(0, host.Device.ConnectionCount));
    }

    /// <summary>
    /// The host program closing its socket will neither send nor receive: SHUTDOWN(RCV|SEND), so
    /// the guest's writes fail at once. Closing only its sending half is SHUTDOWN(SEND), and the
    /// full close that follows adds RCV.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HostCloses_FullOrHalf_ShutdownFlagsSayWhich(bool fullClose)
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        var server = HostSockets.Accept(listener);
        server.Send("bye"u8);
        if (fullClose)
        {
            server.Dispose();
        }
        else
        {
            server.Shutdown(SocketShutdown.Send);
        }
        Assert.Equal("bye", Encoding.ASCII.GetString(host.Guest.ReceiveOp(VsockOp.Rw).Payload));
        var (shutdown, _) = host.Guest.ReceiveOp(VsockOp.Shutdown);
        Assert.Equal(fullClose ? VsockFlags.ShutdownSend | VsockFlags.ShutdownReceive : VsockFlags.ShutdownSend, shutdown.Flags);
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(300)));
        if (!fullClose)
        {
            server.Dispose();
            Assert.Equal(VsockFlags.ShutdownSend | VsockFlags.ShutdownReceive, host.Guest.ReceiveOp(VsockOp.Shutdown).Header.Flags);
        }
    }

    [Fact]
    public void GuestRequest_ReusedAddress_OldConnectionReplaced()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        using var first = HostSockets.Accept(listener);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request)); // as after a guest reboot
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        Assert.Empty(HostSockets.ReadToEnd(first));
        using var second = HostSockets.Accept(listener);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), "new"u8);
        Assert.Equal("new", Encoding.ASCII.GetString(HostSockets.ReadExactly(second, 3)));
    }
}

public sealed class VsockTimeoutTests
{
    [Fact]
    public void HostConnect_GuestNeverAnswers_ResetAfterTimeout()
    {
        using var host = new VsockTestHost(3);
        using var client = HostSockets.Connect(host.UdsPath);
        client.ReceiveTimeout = 20_000;
        HostSockets.SendText(client, "CONNECT 6000\n");
        var (request, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Request, request.Op);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (reset, _) = host.Guest.Receive(TimeSpan.FromSeconds(15));
        Assert.Equal(VsockOp.Rst, reset.Op);
        Assert.Empty(HostSockets.ReadToEnd(client));
        Assert.InRange(clock.Elapsed.TotalSeconds, 8, 14);
    }
}
