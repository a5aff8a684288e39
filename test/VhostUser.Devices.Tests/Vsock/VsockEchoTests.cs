using System.Net.Sockets;
using System.Security.Cryptography;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

/// <summary>
/// A host program echoes megabytes through a guest that behaves like Linux's driver: it answers
/// the REQUEST, echoes every byte back within the device's credit, reports what its application
/// consumed (CREDIT_UPDATE when half its buffer was read) and answers CREDIT_REQUEST.
/// </summary>
public sealed class VsockEchoTests
{
    private const uint GuestBufAlloc = 256 * 1024;

    [Theory]
    [InlineData(1 << 20, 256 * 1024)]
    [InlineData(4 << 20, 64 * 1024)]
    public void HostToGuestEcho_Megabytes_ChecksumsEqual(int size, int txBufferSize)
    {
        using var host = new VsockTestHost(3, (uint)txBufferSize);
        var data = new byte[size];
        new Random(size).NextBytes(data);
        byte[]? echoed = null;
        Exception? failure = null;
        var hostThread = new Thread(() =>
        {
            try
            {
                using var client = HostSockets.Connect(host.UdsPath);
                HostSockets.SendText(client, "CONNECT 6000\n");
                HostSockets.ReadOk(client);
                var writer = new Thread(() =>
                {
                    client.Send(data);
                    client.Shutdown(SocketShutdown.Send);
                });
                writer.Start();
                echoed = HostSockets.ReadToEnd(client);
                writer.Join();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        hostThread.Start();

        var guest = host.Guest;
        var (request, _) = guest.Receive();
        Assert.Equal(VsockOp.Request, request.Op);
        uint hostPort = request.SrcPort;
        guest.Send(guest.Header(6000, 2, hostPort, VsockOp.Response, bufAlloc: GuestBufAlloc));
        uint consumed = 0, reported = 0, sent = 0;
        uint deviceBufAlloc = request.BufAlloc, deviceFwd = request.FwdCnt;
        var backlog = new Queue<byte[]>();
        bool hostDone = false, guestShut = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!guestShut)
        {
            Assert.True(DateTime.UtcNow < deadline, $"echo stalled: consumed {consumed}, sent back {sent}, backlog {backlog.Count}");
            // Echo what we can within the device's credit.
            while (backlog.Count > 0 && deviceBufAlloc - (sent - deviceFwd) >= backlog.Peek().Length)
            {
                var chunk = backlog.Dequeue();
                guest.Send(guest.Header(6000, 2, hostPort, VsockOp.Rw, bufAlloc: GuestBufAlloc, fwdCnt: consumed), chunk);
                sent += (uint)chunk.Length;
                reported = consumed;
            }
            if (hostDone && backlog.Count == 0)
            {
                var shutdown = guest.Header(6000, 2, hostPort, VsockOp.Shutdown, bufAlloc: GuestBufAlloc, fwdCnt: consumed);
                shutdown.Flags = VsockFlags.ShutdownSend | VsockFlags.ShutdownReceive;
                guest.Send(shutdown);
                guestShut = true;
                break;
            }
            var packet = guest.TryReceive(TimeSpan.FromMilliseconds(200));
            if (packet is not { } p)
            {
                continue;
            }
            deviceBufAlloc = p.Header.BufAlloc;
            deviceFwd = p.Header.FwdCnt;
            switch (p.Header.Op)
            {
                case VsockOp.Rw:
                    consumed += (uint)p.Payload.Length;
                    backlog.Enqueue(p.Payload);
                    if (consumed - reported >= GuestBufAlloc / 2)
                    {
                        guest.Send(guest.Header(6000, 2, hostPort, VsockOp.CreditUpdate, bufAlloc: GuestBufAlloc, fwdCnt: consumed));
                        reported = consumed;
                    }
                    break;
                case VsockOp.CreditRequest:
                    guest.Send(guest.Header(6000, 2, hostPort, VsockOp.CreditUpdate, bufAlloc: GuestBufAlloc, fwdCnt: consumed));
                    reported = consumed;
                    break;
                case VsockOp.Shutdown:
                    hostDone = true;
                    break;
                case VsockOp.CreditUpdate:
                    break;
                default:
                    Assert.Fail($"unexpected {p.Header}");
                    break;
            }
        }
        Assert.Equal(VsockOp.Rst, guest.ReceiveOp(VsockOp.Rst).Header.Op);
        Assert.True(hostThread.Join(TimeSpan.FromSeconds(30)));
        Assert.Null(failure);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(echoed!));
    }
}
