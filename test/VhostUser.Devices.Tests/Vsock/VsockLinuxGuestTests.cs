using System.Net.Sockets;
using System.Security.Cryptography;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

/// <summary>
/// Megabytes through the device with a guest that behaves like Linux's vsock driver (see
/// LinuxGuestSocket): rx buffers of Linux's size, refilled only when fewer than half are posted,
/// credit reported only on Linux's thresholds, and a single-threaded echo application that stops
/// reading while its write waits for credit (socat's shape). The device must neither stall nor
/// send beyond the guest's credit, whatever the host program's pace.
/// </summary>
public sealed class VsockLinuxGuestTests
{
    private const int Size = 6 << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(CreditPolicy.Threshold, 3732u, 131072, 0, Size)]
    [InlineData(CreditPolicy.ThresholdOrDrained, 3732u, 8192, 0, Size)]
    [InlineData(CreditPolicy.Threshold, 4096u, 65536, 1, Size)]
    [InlineData(CreditPolicy.ThresholdOrDrained, 60u, 4096, 0, 256 * 1024)]
    public void HostToGuestEcho_LinuxLikeGuest_ChecksumsEqual(CreditPolicy policy, uint rxPayload, int appBlock, int appDelayMs, int size)
    {
        using var host = new VsockTestHost(3, rxPayload: rxPayload);
        var data = RandomBytes(size, appBlock);
        byte[]? echoed = null;
        Exception? failure = null;
        var hostThread = new Thread(() =>
        {
            try
            {
                using var client = HostSockets.Connect(host.UdsPath);
                client.ReceiveTimeout = client.SendTimeout = (int)Deadline.TotalMilliseconds;
                HostSockets.SendText(client, "CONNECT 6000\n");
                HostSockets.ReadOk(client);
                var writer = new Thread(() =>
                {
                    try
                    {
                        client.Send(data);
                        client.Shutdown(SocketShutdown.Send);
                    }
                    catch (SocketException)
                    {
                        // the guest side fails the test; the reader sees the socket go
                    }
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

        var (request, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Request, request.Op);
        var socket = new LinuxGuestSocket(host.Guest, 6000, request.SrcPort, policy);
        socket.OnPacket(request, []);
        socket.Accept();
        RunEcho(host.Guest, socket, appBlock, appDelayMs);

        Assert.True(hostThread.Join(Deadline), "the host program did not finish");
        Assert.Null(failure);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(echoed!));
    }

    [Theory]
    [InlineData(CreditPolicy.Threshold, 3732u, 8192, 0)]
    [InlineData(CreditPolicy.Threshold, 3732u, 200_000, 0)]
    [InlineData(CreditPolicy.ThresholdOrDrained, 3732u, 1000, 0)]
    [InlineData(CreditPolicy.ThresholdOrDrained, 4096u, 65536, 2)]
    public void HostToGuestOneWay_LinuxLikeGuestReads_AllBytesArrive(CreditPolicy policy, uint rxPayload, int appBlock, int appDelayMs)
    {
        using var host = new VsockTestHost(3, rxPayload: rxPayload);
        var data = RandomBytes(Size, appBlock);
        var hostThread = new Thread(() =>
        {
            try
            {
                using var client = HostSockets.Connect(host.UdsPath);
                client.SendTimeout = client.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
                HostSockets.SendText(client, "CONNECT 6000\n");
                HostSockets.ReadLine(client);
                client.Send(data);
                client.Shutdown(SocketShutdown.Send);
                HostSockets.ReadToEnd(client);
            }
            catch (SocketException)
            {
                // the guest side fails the test
            }
        });
        hostThread.Start();
        var (request, _) = host.Guest.Receive();
        var socket = new LinuxGuestSocket(host.Guest, 6000, request.SrcPort, policy);
        socket.OnPacket(request, []);
        socket.Accept();

        var received = new MemoryStream();
        var block = new byte[appBlock];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(socket.PeerShutSend && !socket.HasData))
        {
            Assert.True(clock.Elapsed < Deadline, $"stalled after {received.Length} bytes: {socket.CreditRequestsSeen} credit requests seen, {socket.CreditUpdatesSent} updates sent");
            bool progress = DrainRx(host.Guest, socket);
            int n = socket.Read(block);
            received.Write(block, 0, n);
            if (n > 0 && appDelayMs > 0)
            {
                Thread.Sleep(appDelayMs);
            }
            if (!progress && n == 0)
            {
                WaitRx(host.Guest, socket);
            }
        }
        socket.Shutdown();
        ExpectReset(host.Guest, socket);
        Assert.True(hostThread.Join(Deadline));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
    }

    [Theory]
    [InlineData(CreditPolicy.Threshold, 3732u, 65536)]
    [InlineData(CreditPolicy.ThresholdOrDrained, 3732u, 4096)]
    public void GuestToHostEcho_LinuxLikeGuest_ChecksumsEqual(CreditPolicy policy, uint rxPayload, int appBlock)
    {
        using var host = new VsockTestHost(3, rxPayload: rxPayload);
        using var listener = HostSockets.Listen(host.UdsPath + "_5000");
        var echoServer = new Thread(() =>
        {
            try
            {
                using var s = HostSockets.Accept(listener);
                s.ReceiveTimeout = s.SendTimeout = (int)Deadline.TotalMilliseconds;
                var buffer = new byte[100_000];
                int n;
                while ((n = s.Receive(buffer)) > 0)
                {
                    s.Send(buffer.AsSpan(0, n));
                }
                s.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // the guest side fails the test
            }
        });
        echoServer.Start();
        var data = RandomBytes(Size, appBlock);
        var socket = new LinuxGuestSocket(host.Guest, 40000, 5000, policy);
        socket.Connect();
        var (response, _) = host.Guest.Receive();
        Assert.Equal(VsockOp.Response, response.Op);
        socket.OnPacket(response, []);

        var received = new MemoryStream();
        var block = new byte[appBlock];
        int written = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (received.Length < data.Length)
        {
            Assert.True(clock.Elapsed < Deadline, $"stalled: wrote {written}, received {received.Length}");
            bool progress = DrainRx(host.Guest, socket);
            int n = socket.Read(block);
            received.Write(block, 0, n);
            int w = written < data.Length ? socket.Write(data.AsSpan(written, Math.Min(appBlock, data.Length - written))) : 0;
            written += w;
            Assert.False(socket.Reset, "the device reset the connection");
            if (!progress && n == 0 && w == 0)
            {
                WaitRx(host.Guest, socket);
            }
        }
        socket.Shutdown();
        ExpectReset(host.Guest, socket);
        Assert.True(echoServer.Join(Deadline));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
    }

    /// <summary>The guest application: read a block, write all of it back (no reading meanwhile), until the host's EOF.</summary>
    private static void RunEcho(VsockGuestDriver guest, LinuxGuestSocket socket, int appBlock, int appDelayMs)
    {
        var backlog = new byte[appBlock];
        int start = 0, end = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < Deadline, $"stalled: {socket.CreditRequestsSeen} credit requests seen, {socket.CreditUpdatesSent} updates sent");
            Assert.False(socket.Reset, "the device reset the connection");
            bool progress = DrainRx(guest, socket);
            if (start == end)
            {
                start = 0;
                end = socket.Read(backlog);
                progress |= end > 0;
                if (appDelayMs > 0 && end > 0)
                {
                    Thread.Sleep(appDelayMs);
                }
            }
            if (start < end)
            {
                int n = socket.Write(backlog.AsSpan(start, end - start));
                start += n;
                progress |= n > 0;
            }
            if (socket.PeerShutSend && !socket.HasData && start == end)
            {
                socket.Shutdown();
                ExpectReset(guest, socket);
                return;
            }
            if (!progress)
            {
                WaitRx(guest, socket);
            }
        }
    }

    /// <summary>The driver's rx work: every used buffer to the socket, then refill when fewer than half are posted.</summary>
    private static bool DrainRx(VsockGuestDriver guest, LinuxGuestSocket socket)
    {
        bool any = false;
        while (guest.TryReceiveNoRefill(TimeSpan.Zero) is { } packet)
        {
            socket.OnPacket(packet.Header, packet.Payload);
            any = true;
        }
        Refill(guest);
        return any;
    }

    private static void WaitRx(VsockGuestDriver guest, LinuxGuestSocket socket)
    {
        if (guest.TryReceiveNoRefill(TimeSpan.FromMilliseconds(50)) is { } packet)
        {
            socket.OnPacket(packet.Header, packet.Payload);
            Refill(guest);
        }
    }

    private static void Refill(VsockGuestDriver guest)
    {
        if (guest.RxPosted < guest.QueueSize / 2)
        {
            guest.AddRxBuffers(guest.QueueSize - guest.RxPosted);
        }
    }

    /// <summary>After the guest's full SHUTDOWN the device answers RST once the host has everything.</summary>
    private static void ExpectReset(VsockGuestDriver guest, LinuxGuestSocket socket)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!socket.Reset)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "no RST after the full SHUTDOWN");
            WaitRx(guest, socket);
        }
    }

    private static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }
}
