// Packet.cs — the virtio-vsock packet header as a guest driver writes and reads it (virtio spec
// 5.10.6; 44 packed little-endian bytes) and the op values the bench uses. The bench's own copy:
// the device's types are internal to the daemon.
using System.Runtime.InteropServices;

namespace VhostUser.VsockBench;

/// <summary>struct virtio_vsock_hdr.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct Packet
{
    public const int Size = 44;
    public const ulong HostCid = 2;
    public const ushort Stream = 1;
    public const ushort OpRequest = 1, OpResponse = 2, OpRst = 3, OpShutdown = 4, OpRw = 5, OpCreditUpdate = 6, OpCreditRequest = 7;
    public const uint ShutdownBoth = 3;

    public ulong SrcCid;
    public ulong DstCid;
    public uint SrcPort;
    public uint DstPort;
    public uint Len;
    public ushort Type;
    public ushort Op;
    public uint Flags;
    public uint BufAlloc;
    public uint FwdCnt;
}
