// VsockGuestDriver.cs — the guest side of a vsock device for tests, shaped like Linux's driver:
// the rx ring full of 4 KiB + header buffers (one descriptor each), one packet per tx chain
// (header and payload as two descriptors), credit fields as the test sets them.
using System.Runtime.InteropServices;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Devices.Vsock;
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Vsock;

internal sealed class VsockGuestDriver : IDisposable
{
    public const uint RxPayload = 4096;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly DriverHarness _harness;
    private readonly DriverQueue _rx;
    private readonly DriverQueue _tx;

    public VsockGuestDriver(InProcessDaemon daemon, ulong cid, bool seqPacket = true, bool packed = false, int queueSize = 128, int rxBuffers = -1)
    {
        Cid = cid;
        var wanted = VirtioFeatures.Version1 | VirtioFeatures.EventIdx | (packed ? VirtioFeatures.RingPacked : 0)
            | (seqPacket ? (VirtioFeatures)VsockConstants.SeqPacketFeature : 0);
        _harness = new DriverHarness(daemon.Frontend, wanted, 32 << 20);
        _rx = _harness.StartQueue(0, queueSize);
        _tx = _harness.StartQueue(1, queueSize);
        AddRxBuffers(rxBuffers < 0 ? queueSize : rxBuffers);
    }

    public ulong Cid { get; }

    public VirtioFeatures Features => _harness.Features;

    public void AddRxBuffers(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _rx.Offer(DriverBuffer.Writable(VsockHeader.Size + RxPayload));
        }
        _harness.Kick(0);
    }

    public VsockHeader Header(uint srcPort, ulong dstCid, uint dstPort, VsockOp op, VsockType type = VsockType.Stream, uint bufAlloc = 256 * 1024, uint fwdCnt = 0) =>
        new()
        {
            SrcCid = Cid,
            DstCid = dstCid,
            SrcPort = srcPort,
            DstPort = dstPort,
            Type = type,
            Op = op,
            BufAlloc = bufAlloc,
            FwdCnt = fwdCnt,
        };

    /// <summary>Sends one packet and waits until the device has taken it.</summary>
    public void Send(VsockHeader header, ReadOnlySpan<byte> payload = default)
    {
        header.Len = (uint)payload.Length;
        SendRaw(header, payload);
    }

    /// <summary>Sends a header as given (its len may lie) followed by <paramref name="payload"/>.</summary>
    public void SendRaw(VsockHeader header, ReadOnlySpan<byte> payload)
    {
        var headerBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<VsockHeader>(in header)).ToArray();
        if (payload.IsEmpty)
        {
            _tx.Offer(DriverBuffer.Readable(headerBytes));
        }
        else
        {
            _tx.Offer(DriverBuffer.Readable(headerBytes), DriverBuffer.Readable(payload.ToArray()));
        }
        _harness.Kick(1);
        _harness.WaitUsed(1, Timeout);
    }

    /// <summary>The next packet from the device; the buffer goes back to the ring.</summary>
    public (VsockHeader Header, byte[] Payload) Receive(TimeSpan? timeout = null)
    {
        var used = _harness.WaitUsed(0, timeout ?? Timeout);
        byte[] bytes = _rx.ReadWritten(used);
        Assert.True(bytes.Length >= VsockHeader.Size, $"rx packet of {bytes.Length} bytes");
        var header = MemoryMarshal.Read<VsockHeader>(bytes);
        Assert.Equal((uint)(bytes.Length - VsockHeader.Size), header.Len);
        AddRxBuffers(1);
        return (header, bytes[VsockHeader.Size..]);
    }

    /// <summary>The next packet, or null if none comes within <paramref name="wait"/>.</summary>
    public (VsockHeader Header, byte[] Payload)? TryReceive(TimeSpan wait)
    {
        try
        {
            return Receive(wait);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Receives until a packet with <paramref name="op"/> comes (others are returned in order to <paramref name="skipped"/>).</summary>
    public (VsockHeader Header, byte[] Payload) ReceiveOp(VsockOp op, List<(VsockHeader Header, byte[] Payload)>? skipped = null)
    {
        while (true)
        {
            var packet = Receive();
            if (packet.Header.Op == op)
            {
                return packet;
            }
            skipped?.Add(packet);
        }
    }

    public void Dispose() => _harness.Dispose();
}
