// VsockHeader.cs — the virtio-vsock packet header (virtio spec 5.10.6 "Device Operation";
// devices.md §6): 44 packed little-endian bytes in front of every packet on the rx and tx queues,
// plus the op, type and flag values. The struct is a copy: it is read out of guest memory whole
// (ChainReader.TryRead) and validated afterwards, never in place.
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Vsock;

/// <summary>struct virtio_vsock_hdr.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VsockHeader
{
    /// <summary>Size on the wire.</summary>
    public const int Size = 44;

    public ulong SrcCid;
    public ulong DstCid;
    public uint SrcPort;
    public uint DstPort;
    public uint Len;
    public VsockType Type;
    public VsockOp Op;
    public uint Flags;
    public uint BufAlloc;
    public uint FwdCnt;

    /// <summary>A header from (srcCid, srcPort) to (dstCid, dstPort) with the given op and no payload.</summary>
    public static VsockHeader Create(ulong srcCid, uint srcPort, ulong dstCid, uint dstPort, VsockType type, VsockOp op) => new()
    {
        SrcCid = srcCid,
        DstCid = dstCid,
        SrcPort = srcPort,
        DstPort = dstPort,
        Type = type,
        Op = op,
    };

    /// <summary>The RST that answers this packet: addresses swapped, no payload, no credit.</summary>
    public readonly VsockHeader ResetReply() => Create(DstCid, DstPort, SrcCid, SrcPort, Type, VsockOp.Rst);

    public override readonly string ToString() =>
        $"{Op} {Type} {SrcCid}:{SrcPort}->{DstCid}:{DstPort} len={Len} flags={Flags:x} buf_alloc={BufAlloc} fwd_cnt={FwdCnt}";
}

/// <summary>Socket type of a packet (VIRTIO_VSOCK_TYPE_*).</summary>
internal enum VsockType : ushort
{
    Stream = 1,
    SeqPacket = 2,
}

/// <summary>Packet operation (VIRTIO_VSOCK_OP_*).</summary>
internal enum VsockOp : ushort
{
    Invalid = 0,
    Request = 1,
    Response = 2,
    Rst = 3,
    Shutdown = 4,
    Rw = 5,
    CreditUpdate = 6,
    CreditRequest = 7,
}

/// <summary>Flag values: SHUTDOWN flags for op Shutdown, SEQ_* for op Rw on seqpacket sockets.</summary>
internal static class VsockFlags
{
    /// <summary>VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE: the sender will receive no more data.</summary>
    public const uint ShutdownReceive = 1;

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_F_SEND: the sender will send no more data.</summary>
    public const uint ShutdownSend = 2;

    /// <summary>VIRTIO_VSOCK_SEQ_EOM: last packet of a message.</summary>
    public const uint EndOfMessage = 1;

    /// <summary>VIRTIO_VSOCK_SEQ_EOR: last packet of a record (MSG_EOR).</summary>
    public const uint EndOfRecord = 2;
}

/// <summary>Well-known addresses and feature bits.</summary>
internal static class VsockConstants
{
    /// <summary>VMADDR_CID_HOST: the host side of every connection the daemon bridges.</summary>
    public const ulong HostCid = 2;

    /// <summary>VIRTIO_VSOCK_F_SEQPACKET (feature bit 1).</summary>
    public const ulong SeqPacketFeature = 1UL << 1;
}
