// Workloads.cs — what one measurement does, with the guest driver on the calling thread and the
// host program on a thread of its own (the hybrid-vsock conventions of README.md in
// src/Devices/Vsock). Each returns the rate over the measured window, after a warm-up.
//   h2g          host writes 256 KiB blocks to UDS after "CONNECT 5000"; the guest reads
//   g2h          the guest writes 64 KiB packets to UDS_5000; the host reads 256 KiB blocks
//   connect-h2g  host: connect, CONNECT line, read OK, close — one after another
//   connect-g2h  guest: REQUEST, RESPONSE, full SHUTDOWN, RST, and the host program accepted it —
//                one after another
// The guest reports credit as Linux 6.12 does: after reading, when the free space it last
// reported fell below 64 KiB or its receive queue is empty; it answers CREDIT_REQUEST.
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace VhostUser.VsockBench;

internal static class Workloads
{
    private const uint BufAlloc = 256 * 1024; // Linux's default per-socket buffer
    private const uint Threshold = 64 * 1024;
    private const uint GuestPort = 5000;

    [ThreadStatic]
    private static Pinning? t_pinning;

    public static double Run(string mode, GuestDriver guest, string udsPath, Window window, Pinning pinning)
    {
        t_pinning = pinning;
        return mode switch
        {
            "h2g" => HostToGuest(guest, udsPath, window),
            "g2h" => GuestToHost(guest, udsPath, window),
            "connect-h2g" => ConnectHostToGuest(guest, udsPath, window),
            "connect-g2h" => ConnectGuestToHost(guest, udsPath, window),
            _ => throw new ArgumentException($"unknown mode {mode}"),
        };
    }

    private static double HostToGuest(GuestDriver guest, string udsPath, Window window)
    {
        using var stop = new CancellationTokenSource();
        var host = HostThread(() =>
        {
            using var socket = ConnectHybrid(udsPath, GuestPort);
            var block = new byte[256 * 1024];
            Random.Shared.NextBytes(block);
            while (!stop.IsCancellationRequested)
            {
                socket.Send(block);
            }
        });
        var request = Expect(guest, Packet.OpRequest);
        var reply = Reply(guest, request, Packet.OpResponse);
        guest.Send(reply);
        uint consumed = 0, reported = 0; // fwd_cnt: wraps on purpose
        long total = 0, atStart = -1;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window.End)
        {
            if (atStart < 0 && clock.Elapsed >= window.Warmup)
            {
                atStart = total;
            }
            bool drained = true;
            while (guest.TryReceive(out var packet, out var payload))
            {
                if (packet.Op == Packet.OpRw)
                {
                    consumed += (uint)payload.Length;
                    total += payload.Length;
                }
                else if (packet.Op == Packet.OpCreditRequest)
                {
                    reported = SendCredit(guest, reply, consumed);
                }
                if (consumed - reported >= BufAlloc - Threshold)
                {
                    reported = SendCredit(guest, reply, consumed);
                }
                drained = false;
                if (clock.Elapsed >= window.End)
                {
                    break;
                }
            }
            if (consumed != reported)
            {
                reported = SendCredit(guest, reply, consumed); // the receive queue ran empty
            }
            if (drained)
            {
                guest.Wait(100);
            }
        }
        double megabytes = (total - atStart) / 1e6;
        stop.Cancel();
        guest.Send(Reply(guest, request, Packet.OpRst));
        host.Join();
        return megabytes / window.Measured.TotalSeconds;
    }

    private static double GuestToHost(GuestDriver guest, string udsPath, Window window)
    {
        long received = 0;
        using var listener = Listen(udsPath + "_" + GuestPort);
        var host = HostThread(() =>
        {
            using var socket = listener.Accept();
            var buffer = new byte[256 * 1024];
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                Interlocked.Add(ref received, n);
            }
        });
        var request = new Packet { SrcCid = guest.Cid, DstCid = Packet.HostCid, SrcPort = 40000, DstPort = GuestPort, Type = Packet.Stream, Op = Packet.OpRequest, BufAlloc = BufAlloc };
        guest.Send(request);
        var response = Expect(guest, Packet.OpResponse);
        uint peerBufAlloc = response.BufAlloc, peerFwd = response.FwdCnt, sent = 0;
        var data = new byte[GuestDriver.MaxTxPayload];
        Random.Shared.NextBytes(data);
        var rw = request;
        rw.Op = Packet.OpRw;
        long atStart = -1;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window.End)
        {
            if (atStart < 0 && clock.Elapsed >= window.Warmup)
            {
                atStart = Interlocked.Read(ref received);
            }
            while (guest.TryReceive(out var packet, out _))
            {
                (peerBufAlloc, peerFwd) = (packet.BufAlloc, packet.FwdCnt);
            }
            uint credit = peerBufAlloc - (sent - peerFwd);
            if (credit > 0)
            {
                rw.Len = Math.Min(credit, (uint)data.Length);
                if (guest.TrySend(rw, data.AsSpan(0, (int)rw.Len)))
                {
                    sent += rw.Len;
                    continue;
                }
            }
            guest.Wait(100);
        }
        double megabytes = (Interlocked.Read(ref received) - atStart) / 1e6;
        var rst = request;
        rst.Op = Packet.OpRst;
        guest.Send(rst);
        host.Join();
        return megabytes / window.Measured.TotalSeconds;
    }

    private static double ConnectHostToGuest(GuestDriver guest, string udsPath, Window window)
    {
        long connections = 0;
        using var stop = new CancellationTokenSource();
        var host = HostThread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = ConnectHybrid(udsPath, GuestPort);
                Interlocked.Increment(ref connections);
            }
        });
        long atStart = -1;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window.End)
        {
            if (atStart < 0 && clock.Elapsed >= window.Warmup)
            {
                atStart = Interlocked.Read(ref connections);
            }
            if (!guest.TryReceive(out var packet, out _))
            {
                guest.Wait(100);
                continue;
            }
            if (packet.Op == Packet.OpRequest)
            {
                guest.Send(Reply(guest, packet, Packet.OpResponse));
            }
            else if (packet.Op == Packet.OpShutdown)
            {
                guest.Send(Reply(guest, packet, Packet.OpRst)); // the host closed: close at once
            }
        }
        long count = Interlocked.Read(ref connections) - atStart;
        stop.Cancel();
        AnswerUntilDone(guest, host);
        return count / window.Measured.TotalSeconds;
    }

    private static double ConnectGuestToHost(GuestDriver guest, string udsPath, Window window)
    {
        using var listener = Listen(udsPath + "_" + GuestPort);
        using var accepted = new SemaphoreSlim(0);
        var host = HostThread(() =>
        {
            var buffer = new byte[64];
            try
            {
                while (true)
                {
                    using var socket = listener.Accept();
                    accepted.Release();
                    while (socket.Receive(buffer) > 0)
                    {
                    }
                }
            }
            catch (SocketException)
            {
                // the listener was closed: the run is over
            }
        });
        long connections = 0, atStart = -1;
        uint port = 50000;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window.End)
        {
            if (atStart < 0 && clock.Elapsed >= window.Warmup)
            {
                atStart = connections;
            }
            var request = new Packet { SrcCid = guest.Cid, DstCid = Packet.HostCid, SrcPort = port++, DstPort = GuestPort, Type = Packet.Stream, Op = Packet.OpRequest, BufAlloc = BufAlloc };
            guest.Send(request);
            Expect(guest, Packet.OpResponse);
            var shutdown = request;
            shutdown.Op = Packet.OpShutdown;
            shutdown.Flags = Packet.ShutdownBoth;
            guest.Send(shutdown);
            Expect(guest, Packet.OpRst);
            // A connection counts once the host program has it; waiting for that also keeps the
            // listener's backlog from filling (the daemon connects without blocking: a full
            // backlog would refuse the next REQUEST).
            if (!accepted.Wait(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException("the host program did not accept within 10 s");
            }
            connections++;
        }
        listener.Dispose();
        host.Join();
        return (connections - atStart) / window.Measured.TotalSeconds;
    }

    private static uint SendCredit(GuestDriver guest, Packet reply, uint consumed)
    {
        reply.Op = Packet.OpCreditUpdate;
        reply.FwdCnt = consumed;
        guest.Send(reply);
        return consumed;
    }

    /// <summary>A packet back to the sender of <paramref name="packet"/> (addresses swapped).</summary>
    private static Packet Reply(GuestDriver guest, in Packet packet, ushort op) => new()
    {
        SrcCid = guest.Cid,
        DstCid = packet.SrcCid,
        SrcPort = packet.DstPort,
        DstPort = packet.SrcPort,
        Type = Packet.Stream,
        Op = op,
        BufAlloc = BufAlloc,
    };

    private static Packet Expect(GuestDriver guest, ushort op)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (guest.TryReceive(out var packet, out _))
            {
                if (packet.Op == op)
                {
                    return packet;
                }
                if (packet.Op == Packet.OpRst)
                {
                    throw new InvalidOperationException($"RST from {packet.SrcCid}:{packet.SrcPort} to port {packet.DstPort} while waiting for op {op}");
                }
                continue;
            }
            guest.Wait(100);
        }
        throw new TimeoutException($"no packet with op {op} within 10 s");
    }

    private static void Send(this GuestDriver guest, in Packet packet)
    {
        while (!guest.TrySend(packet, default))
        {
            guest.Wait(100);
        }
    }

    /// <summary>Keeps answering REQUESTs until the host thread has ended (its last connect may be waiting).</summary>
    private static void AnswerUntilDone(GuestDriver guest, Thread host)
    {
        while (host.IsAlive)
        {
            if (guest.TryReceive(out var packet, out _) && packet.Op == Packet.OpRequest)
            {
                guest.Send(Reply(guest, packet, Packet.OpResponse));
            }
            else
            {
                guest.Wait(10);
            }
        }
    }

    private static Socket ConnectHybrid(string udsPath, uint port)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(new UnixDomainSocketEndPoint(udsPath));
        socket.Send(Encoding.ASCII.GetBytes($"CONNECT {port}\n"));
        var one = new byte[1];
        var line = new StringBuilder();
        while (socket.Receive(one) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }
        // "OK <host-side port>" (the port the daemon assigned, as Firecracker and cloud-hypervisor answer).
        string answer = line.ToString();
        if (!answer.StartsWith("OK ", StringComparison.Ordinal) || !uint.TryParse(answer.AsSpan(3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            socket.Dispose();
            throw new InvalidOperationException($"handshake answered '{line}'");
        }
        return socket;
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        // The daemon connects without blocking: a full backlog (a host program that accepts more
        // slowly than the guest connects) is a refusal, so leave room as a busy server would.
        socket.Listen(4096);
        return socket;
    }

    private static Thread HostThread(Action body) => t_pinning!.StartHost(() =>
    {
        try
        {
            body();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ObjectDisposedException)
        {
            // the guest side ended the run (RST or reset): the host program just stops
        }
    });
}
