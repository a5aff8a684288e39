// VsockGuestDriver.cs — the guest side of a vsock device for tests, shaped like Linux's driver:
// the rx ring full of one-descriptor buffers (header + 4 KiB by default; Linux 6.12 posts
// header + 3732), one packet per tx chain (header and payload as two descriptors), credit fields
// as the test sets them. Receive refills one buffer per packet; ReceiveNoRefill leaves refilling
// to the caller (Linux refills only when fewer than half of its buffers are posted).
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

    public VsockGuestDriver(InProcessDaemon daemon, ulong cid, bool seqPacket = true, bool packed = false, int queueSize = 128, int rxBuffers = -1, uint rxPayload = RxPayload)
    {
        Cid = cid;
        RxBufferPayload = rxPayload;
        QueueSize = queueSize;
        var wanted = VirtioFeatures.Version1 | VirtioFeatures.EventIdx | (packed ? VirtioFeatures.RingPacked : 0)
            | (seqPacket ? (VirtioFeatures)VsockConstants.SeqPacketFeature : 0);
        _harness = new DriverHarness(daemon.Frontend, wanted, 32 << 20);
        _rx = _harness.StartQueue(0, queueSize);
        _tx = _harness.StartQueue(1, queueSize);
        AddRxBuffers(rxBuffers < 0 ? queueSize : rxBuffers);
    }

    public ulong Cid { get; }

    /// <summary>Payload bytes each rx buffer holds after the header.</summary>
    public uint RxBufferPayload { get; }

    public int QueueSize { get; }

    /// <summary>Rx buffers offered and not yet returned by the device.</summary>
    public int RxPosted { get; private set; }

    public VirtioFeatures Features => _harness.Features;

    public void AddRxBuffers(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _rx.Offer(DriverBuffer.Writable(VsockHeader.Size + RxBufferPayload));
        }
        RxPosted += count;
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

    /// <summary>Offers one rx buffer made of several writable pieces (header and payload may be split anywhere).</summary>
    public void AddRxBuffer(params uint[] pieces)
    {
        _rx.Offer(pieces.Select(DriverBuffer.Writable).ToArray());
        RxPosted++;
        _harness.Kick(0);
    }

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
        var packet = ReceiveNoRefill(timeout ?? Timeout);
        AddRxBuffers(1);
        return packet;
    }

    /// <summary>The next packet from the device, waiting up to <paramref name="timeout"/>; its buffer is not offered again.</summary>
    public (VsockHeader Header, byte[] Payload) ReceiveNoRefill(TimeSpan timeout)
    {
        var used = _harness.WaitUsed(0, timeout);
        RxPosted--;
        byte[] bytes = _rx.ReadWritten(used);
        Assert.True(bytes.Length >= VsockHeader.Size, $"rx packet of {bytes.Length} bytes");
        var header = MemoryMarshal.Read<VsockHeader>(bytes);
        Assert.Equal((uint)(bytes.Length - VsockHeader.Size), header.Len);
        Assert.True(header.Len <= RxBufferPayload, $"{header.Len} payload bytes in a {RxBufferPayload}-byte buffer");
        return (header, bytes[VsockHeader.Size..]);
    }

    /// <summary>The next packet without refilling its buffer, or null if none comes within <paramref name="wait"/>.</summary>
    public (VsockHeader Header, byte[] Payload)? TryReceiveNoRefill(TimeSpan wait)
    {
        try
        {
            return ReceiveNoRefill(wait);
        }
        catch (TimeoutException)
        {
            return null;
        }
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
