// FuseHeaders.cs — the headers every FUSE request and reply start with (fuse.h struct
// fuse_in_header, 40 bytes; struct fuse_out_header, 16 bytes; devices.md §5.2). Little-endian
// on every target we build for (design README 1.7).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Fuse;

/// <summary>struct fuse_in_header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public const int Size = 40;

    public uint Length;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtLength; // in 8-byte units (7.38)
    public ushort Padding;
}

/// <summary>struct fuse_out_header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public const int Size = 16;

    public uint Length;
    public int Error; // 0 or -errno
    public ulong Unique;
}
