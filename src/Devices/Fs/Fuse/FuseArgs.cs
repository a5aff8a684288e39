// FuseArgs.cs — the fixed-size request arguments that follow fuse_in_header (fuse.h *_in
// structs). Each is read as a copy from the chain and checked before use.
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Fuse;

#pragma warning disable CA1815 // wire structs are never compared

[StructLayout(LayoutKind.Sequential)] internal struct FuseForgetIn { public ulong Count; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseForgetOne { public ulong NodeId; public ulong Count; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseBatchForgetIn { public uint Count; public uint Dummy; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseGetAttrIn { public const uint UseHandle = 1; public uint Flags; public uint Dummy; public ulong Handle; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseMkNodIn { public uint Mode; public uint Rdev; public uint Umask; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseMkDirIn { public uint Mode; public uint Umask; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseRenameIn { public ulong NewDir; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseRename2In { public ulong NewDir; public uint Flags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseLinkIn { public ulong OldNodeId; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseOpenIn { public uint Flags; public uint OpenFlags; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseCreateIn { public uint Flags; public uint Mode; public uint Umask; public uint OpenFlags; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseReleaseIn { public ulong Handle; public uint Flags; public uint ReleaseFlags; public ulong LockOwner; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseFlushIn { public ulong Handle; public uint Unused; public uint Padding; public ulong LockOwner; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseReadIn { public ulong Handle; public ulong Offset; public uint Size; public uint ReadFlags; public ulong LockOwner; public uint Flags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseWriteIn { public const uint KillSuidGid = 1 << 2; public ulong Handle; public ulong Offset; public uint Size; public uint WriteFlags; public ulong LockOwner; public uint Flags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseWriteOut { public uint Size; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseFsyncIn { public const uint DataSync = 1; public ulong Handle; public uint FsyncFlags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseSetXattrIn { public const uint AclKillSgid = 1; public uint Size; public uint Flags; public uint SetXattrFlags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseGetXattrIn { public uint Size; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseGetXattrOut { public uint Size; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseLkIn { public const uint Flock = 1; public ulong Handle; public ulong Owner; public FuseFileLock Lock; public uint LkFlags; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseAccessIn { public uint Mask; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseInterruptIn { public ulong Unique; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseIoctlIn { public ulong Handle; public uint Flags; public uint Command; public ulong Argument; public uint InSize; public uint OutSize; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseIoctlOut { public int Result; public uint Flags; public uint InIovs; public uint OutIovs; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseFallocateIn { public ulong Handle; public ulong Offset; public ulong Length; public uint Mode; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseLseekIn { public ulong Handle; public ulong Offset; public uint Whence; public uint Padding; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseLseekOut { public ulong Offset; }

[StructLayout(LayoutKind.Sequential)] internal struct FuseCopyFileRangeIn { public ulong HandleIn; public ulong OffsetIn; public ulong NodeIdOut; public ulong HandleOut; public ulong OffsetOut; public ulong Length; public ulong Flags; }

/// <summary>struct fuse_setattr_in (88 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetAttrIn
{
    public const uint Mode = 1 << 0;
    public const uint Uid = 1 << 1;
    public const uint Gid = 1 << 2;
    public const uint Size = 1 << 3;
    public const uint Atime = 1 << 4;
    public const uint Mtime = 1 << 5;
    public const uint Handle = 1 << 6;
    public const uint AtimeNow = 1 << 7;
    public const uint MtimeNow = 1 << 8;
    public const uint LockOwner = 1 << 9;
    public const uint Ctime = 1 << 10;
    public const uint KillSuidGid = 1 << 11;

    public uint Valid;
    public uint Padding;
    public ulong Fh;
    public ulong NewSize;
    public ulong Owner;
    public ulong AtimeSeconds;
    public ulong MtimeSeconds;
    public ulong CtimeSeconds;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint NewMode;
    public uint Unused4;
    public uint NewUid;
    public uint NewGid;
    public uint Unused5;
}
