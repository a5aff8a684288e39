// VsockFuzzTests.cs — a hostile guest sends random packets: every op and some that do not exist,
// both socket types and bad ones, its own and forged source CIDs, the host, its sibling and
// unknown destination CIDs, ports with and without a listener, lengths that lie, random flags,
// credit fields from zero to 4 GiB. Whatever it sends, each packet the device hands it must be
// well formed (to its own CID, from the host or the sibling — or an RST from the CID it tried to
// reach — a real op and type, len equal to the payload), the sibling gets only well-formed packets too, and afterwards a clean connection to a
// host listener still echoes.
using System.Net.Sockets;
using CsCheck;
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

public sealed class VsockFuzzTests
{
    private const uint EchoPort = 5000;

    private static readonly Gen<Packet> GenPacket = Gen.Select(
        Gen.Select(
            Gen.Frequency((6, Gen.UShort[1, 7]), (1, Gen.OneOf(Gen.Const((ushort)0), Gen.Const((ushort)8), Gen.UShort))),
            Gen.Frequency((4, Gen.Const((ushort)1)), (2, Gen.Const((ushort)2)), (1, Gen.UShort)),
            Gen.Frequency((8, Gen.Const(3UL)), (1, Gen.OneOf(Gen.Const(4UL), Gen.Const(2UL), Gen.ULong))),
            Gen.Frequency((4, Gen.Const(2UL)), (3, Gen.Const(4UL)), (1, Gen.OneOf(Gen.Const(3UL), Gen.Const(1UL), Gen.ULong))),
            (op, type, src, dst) => (op, type, src, dst)),
        Gen.UInt[1000, 1003], Gen.OneOf(Gen.Const(EchoPort), Gen.Const(5001u), Gen.UInt[2000, 2001], Gen.UInt),
        Gen.Byte.Array[0, 300], Gen.Int[0, 9],
        Gen.Frequency((4, Gen.UInt[0, 3]), (1, Gen.UInt)),
        Gen.OneOf(Gen.Const(0u), Gen.Const(4096u), Gen.Const(256u * 1024), Gen.Const(uint.MaxValue), Gen.UInt),
        Gen.OneOf(Gen.Const(0u), Gen.UInt[0, 100_000], Gen.UInt),
        (a, srcPort, dstPort, payload, lie, flags, bufAlloc, fwdCnt) => new Packet(a.op, a.type, a.src, a.dst, srcPort, dstPort, payload, lie, flags, bufAlloc, fwdCnt));

    [Fact]
    public void RandomPackets_FromAHostileGuest_DeviceAnswersWellFormedAndStillEchoes()
    {
        GenPacket.Array[10, 60].Sample(packets =>
        {
            var registry = new VsockRegistry();
            using var a = new VsockTestHost(3, registry: registry);
            using var b = new VsockTestHost(4, registry: registry);
            using var listener = HostSockets.Listen(a.UdsPath + "_" + EchoPort);
            var echo = new Thread(() => Echo(listener)) { IsBackground = true };
            echo.Start();
            var addressed = new HashSet<ulong>();
            foreach (var packet in packets)
            {
                addressed.Add(packet.DstCid);
                var header = a.Guest.Header(packet.SrcPort, packet.DstCid, packet.DstPort, (VsockOp)packet.Op, (VsockType)packet.Type, packet.BufAlloc, packet.FwdCnt);
                header.SrcCid = packet.SrcCid;
                header.Flags = packet.Flags;
                header.Len = packet.Lie switch
                {
                    9 => (uint)packet.Payload.Length + 100, // more than the buffer holds
                    8 => uint.MaxValue,
                    7 => packet.Payload.Length > 0 ? (uint)packet.Payload.Length - 1 : 0, // less
                    _ => (uint)packet.Payload.Length,
                };
                a.Guest.SendRaw(header, packet.Payload);
                Drain(a, TimeSpan.Zero, 4, addressed);
            }
            Drain(a, TimeSpan.FromMilliseconds(50), 4, addressed);
            Drain(b, TimeSpan.FromMilliseconds(50), 3);

            // A clean connection on a fresh port still works end to end.
            var guest = a.Guest;
            guest.Send(guest.Header(7777, 2, EchoPort, VsockOp.Request));
            var response = ReceiveFor(a, 7777);
            Assert.Equal(VsockOp.Response, response.Header.Op);
            guest.Send(guest.Header(7777, 2, EchoPort, VsockOp.Rw), "ping"u8);
            var echoed = ReceiveFor(a, 7777, skipCredit: true);
            Assert.Equal(VsockOp.Rw, echoed.Header.Op);
            Assert.Equal("ping"u8.ToArray(), echoed.Payload);
            listener.Close();
        }, iter: 30, threads: 1);
    }

    /// <summary>Takes what the device sent the guest, checking each packet is well formed.</summary>
    private static void Drain(VsockTestHost host, TimeSpan wait, ulong sibling, HashSet<ulong>? addressed = null)
    {
        while (host.Guest.TryReceive(wait) is { } packet)
        {
            CheckWellFormed(host.Guest.Cid, sibling, packet.Header, packet.Payload, addressed);
        }
    }

    private static (VsockHeader Header, byte[] Payload) ReceiveFor(VsockTestHost host, uint port, bool skipCredit = false)
    {
        while (true)
        {
            var packet = host.Guest.Receive();
            CheckWellFormed(host.Guest.Cid, 4, packet.Header, packet.Payload);
            if (packet.Header.DstPort == port && !(skipCredit && packet.Header.Op is VsockOp.CreditUpdate or VsockOp.CreditRequest))
            {
                return packet;
            }
        }
    }

    private static void CheckWellFormed(ulong cid, ulong sibling, VsockHeader header, byte[] payload, HashSet<ulong>? addressed = null)
    {
        Assert.Equal(cid, header.DstCid);
        // Only an RST answers for a CID that is not there (a connection to it fails at once), and
        // only for one the guest addressed.
        Assert.True(header.SrcCid == 2 || header.SrcCid == sibling || (header.Op == VsockOp.Rst && addressed?.Contains(header.SrcCid) == true),
            $"a {header.Op} from CID {header.SrcCid}");
        Assert.True(header.Op is >= VsockOp.Request and <= VsockOp.CreditRequest,
            $"guest {cid} got op {(ushort)header.Op} {header.SrcCid}:{header.SrcPort}->{header.DstCid}:{header.DstPort} type {header.Type} len {header.Len}");
        // An RST answering a packet of a type that does not exist carries that type back, as Linux's does.
        Assert.True(header.Type is VsockType.Stream or VsockType.SeqPacket || header.Op == VsockOp.Rst, $"a {header.Op} of type {header.Type}");
        Assert.Equal((uint)payload.Length, header.Len);
        if (header.Op != VsockOp.Rw)
        {
            Assert.Empty(payload);
        }
    }

    private static void Echo(Socket listener)
    {
        try
        {
            while (true)
            {
                var connection = HostSockets.Accept(listener);
                new Thread(() =>
                {
                    var buffer = new byte[4096];
                    try
                    {
                        using (connection)
                        {
                            int n;
                            while ((n = connection.Receive(buffer)) > 0)
                            {
                                connection.Send(buffer, n, SocketFlags.None);
                            }
                        }
                    }
                    catch (SocketException)
                    {
                    }
                }) { IsBackground = true }.Start();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // the listener closed at the end of the sample
        }
    }

    private sealed record Packet(ushort Op, ushort Type, ulong SrcCid, ulong DstCid, uint SrcPort, uint DstPort, byte[] Payload, int Lie,
        uint Flags, uint BufAlloc, uint FwdCnt)
    {
        public override string ToString() =>
            $"op={Op} type={Type} {SrcCid}:{SrcPort}->{DstCid}:{DstPort} len={Payload.Length} lie={Lie} flags={Flags} buf={BufAlloc} fwd={FwdCnt}";
    }
}
