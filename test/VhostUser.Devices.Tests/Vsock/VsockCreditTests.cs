using System.Net.Sockets;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockCreditTests
{
    private const ulong Cid = 5;

    /// <summary>Guest connects to host port 1234 with the given buf_alloc; returns the accepted host socket.</summary>
    private static Socket Open(VsockTestHost host, Socket listener, uint guestBufAlloc)
    {
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Request, bufAlloc: guestBufAlloc));
        Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
        return HostSockets.Accept(listener);
    }

    [Fact]
    public void HostToGuest_GuestCreditExhausted_CreditRequestThenResumesAfterUpdate()
    {
        using var host = new VsockTestHost(Cid);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        using var server = Open(host, listener, guestBufAlloc: 10_000);
        server.Send(new byte[30_000]);

        uint received = 0;
        var packets = new List<(VsockHeader Header, byte[] Payload)>();
        var request = host.Guest.ReceiveOp(VsockOp.CreditRequest, packets);
        received += (uint)packets.Sum(p => p.Payload.Length);
        Assert.Equal(10_000u, received); // exactly the guest's buffer, then a request
        Assert.Null(host.Guest.TryReceive(TimeSpan.FromMilliseconds(300))); // and nothing more without credit

        // The guest's application read everything: it reports fwd_cnt = 10000.
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.CreditUpdate, bufAlloc: 10_000, fwdCnt: received));
        packets.Clear();
        host.Guest.ReceiveOp(VsockOp.CreditRequest, packets);
        Assert.Equal(10_000, packets.Sum(p => p.Payload.Length));
    }

    [Fact]
    public void GuestCreditRequest_AnsweredWithCreditUpdate()
    {
        using var host = new VsockTestHost(Cid, txBufferSize: 65536);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        using var server = Open(host, listener, 65536);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), new byte[1000]);
        host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.CreditRequest));
        var (update, _) = host.Guest.ReceiveOp(VsockOp.CreditUpdate);
        Assert.Equal(65536u, update.BufAlloc);
        Assert.Equal(1000u, update.FwdCnt); // the host socket took the bytes
    }

    [Fact]
    public void GuestToHost_HostStopsReading_BufferBoundedAndOverrunResets()
    {
        const int Window = 64 * 1024;
        using var host = new VsockTestHost(Cid, txBufferSize: Window);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        using var server = Open(host, listener, 65536);
        server.ReceiveBufferSize = 4096;
        var chunk = new byte[16 * 1024];
        uint fwd = 0;
        uint sent = 0;
        // Send within credit (as a Linux guest does) until the device's buffer holds a full window.
        for (int i = 0; i < 200; i++)
        {
            host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), chunk);
            sent += (uint)chunk.Length;
            while (host.Guest.TryReceive(TimeSpan.FromMilliseconds(20)) is { } p)
            {
                fwd = p.Header.FwdCnt;
            }
            if (sent - fwd >= Window)
            {
                break;
            }
        }
        Assert.True(sent - fwd <= Window, $"{sent - fwd} bytes outstanding with a {Window}-byte window");
        // A guest that ignores its credit gets RST instead of growing the buffer.
        for (int i = 0; i < 8; i++)
        {
            host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), chunk);
        }
        Assert.Equal(VsockOp.Rst, host.Guest.ReceiveOp(VsockOp.Rst).Header.Op);
    }

    [Fact]
    public void GuestToHost_SlowReader_EveryByteArrivesAndCreditFollows()
    {
        using var host = new VsockTestHost(Cid, txBufferSize: 32 * 1024);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        using var server = Open(host, listener, 65536);
        var data = new byte[1 << 20];
        new Random(3).NextBytes(data);
        var received = new MemoryStream();
        var reader = new Thread(() =>
        {
            var buffer = new byte[3000];
            while (received.Length < data.Length)
            {
                Thread.Sleep(1);
                int n = server.Receive(buffer);
                if (n == 0)
                {
                    break;
                }
                received.Write(buffer, 0, n);
            }
        });
        reader.Start();
        int offset = 0;
        uint fwd = 0;
        while (offset < data.Length)
        {
            uint credit = 32 * 1024 - ((uint)offset - fwd);
            if (credit == 0)
            {
                fwd = host.Guest.ReceiveOp(VsockOp.CreditUpdate).Header.FwdCnt; // the device must tell us
                continue;
            }
            int n = (int)Math.Min(credit, Math.Min(16 * 1024, data.Length - offset));
            host.Guest.Send(host.Guest.Header(40000, 2, 1234, VsockOp.Rw), data.AsSpan(offset, n));
            offset += n;
            while (host.Guest.TryReceive(TimeSpan.Zero) is { } p)
            {
                fwd = p.Header.FwdCnt;
            }
        }
        Assert.True(reader.Join(TimeSpan.FromSeconds(20)));
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public void ManyConnections_OneStalledHostReader_OthersKeepFlowing()
    {
        using var host = new VsockTestHost(Cid, txBufferSize: 16 * 1024);
        using var listener = HostSockets.Listen(host.UdsPath + "_1234");
        var servers = new List<Socket>();
        for (uint port = 0; port < 8; port++)
        {
            host.Guest.Send(host.Guest.Header(50000 + port, 2, 1234, VsockOp.Request));
            Assert.Equal(VsockOp.Response, host.Guest.Receive().Header.Op);
            servers.Add(HostSockets.Accept(listener));
        }
        // Connection 0's host never reads: fill its window.
        for (int i = 0; i < 4; i++)
        {
            host.Guest.Send(host.Guest.Header(50000, 2, 1234, VsockOp.Rw), new byte[4096]);
        }
        // Every other connection still carries data both ways.
        for (uint port = 1; port < 8; port++)
        {
            host.Guest.Send(host.Guest.Header(50000 + port, 2, 1234, VsockOp.Rw), new byte[] { (byte)port });
            Assert.Equal((byte)port, HostSockets.ReadExactly(servers[(int)port], 1)[0]);
            servers[(int)port].Send(new byte[] { (byte)(port + 100) });
            var (data, payload) = host.Guest.ReceiveOp(VsockOp.Rw);
            Assert.Equal(50000 + port, data.DstPort);
            Assert.Equal((byte)(port + 100), payload[0]);
        }
        servers.ForEach(s => s.Dispose());
    }
}
