// FuseAttr.cs — attributes and the replies that carry them (fuse.h struct fuse_attr,
// fuse_entry_out, fuse_attr_out, fuse_kstatfs, fuse_file_lock).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Fuse;

/// <summary>struct fuse_attr (88 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public const uint FlagSubmount = 1;

    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlockSize;
    public uint Flags;
}

/// <summary>struct fuse_entry_out (128 bytes): LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}

/// <summary>struct fuse_attr_out (104 bytes): GETATTR, SETATTR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}

/// <summary>struct fuse_kstatfs (80 bytes): STATFS.</summary>
[StructLayout(LayoutKind.Sequential, Size = 80)]
internal struct FuseStatFsOut
{
    public ulong Blocks;
    public ulong BlocksFree;
    public ulong BlocksAvailable;
    public ulong Files;
    public ulong FilesFree;
    public uint BlockSize;
    public uint NameLength;
    public uint FragmentSize;
}

/// <summary>struct fuse_file_lock (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseFileLock
{
    public ulong Start;
    public ulong End;
    public uint Type;
    public uint Pid;
}

/// <summary>struct fuse_open_out (16 bytes): OPEN, OPENDIR, and after the entry in CREATE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public const uint DirectIo = 1 << 0;
    public const uint KeepCache = 1 << 1;
    public const uint CacheDir = 1 << 3;
    public const uint NoFlush = 1 << 5;
    public const uint ParallelDirectWrites = 1 << 6;

    public ulong Handle;
    public uint OpenFlags;
    public uint Padding;
}
