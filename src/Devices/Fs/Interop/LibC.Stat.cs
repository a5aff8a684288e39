// LibC.Stat.cs — statx, fstatfs and utimensat (sys/stat.h, sys/statfs.h).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const uint STATX_MNT_ID = 0x1000;
    public const int AT_STATX_SYNC_AS_STAT = 0;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFIFO = 0x1000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_ISUID = 0x800;
    public const uint S_ISGID = 0x400;
    public const uint S_IXGRP = 0x8;

    public const long UTIME_NOW = (1L << 30) - 1;
    public const long UTIME_OMIT = (1L << 30) - 2;

    /// <summary>struct statx_timestamp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        public int Reserved;
    }

    /// <summary>struct statx (256 bytes; linux/stat.h).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Nlink;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        public ushort Spare0;
        public ulong Ino;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp Atime;
        public StatxTimestamp Btime;
        public StatxTimestamp Ctime;
        public StatxTimestamp Mtime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
        public ulong MountId;
    }

    /// <summary>struct statfs (64-bit Linux; 120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 120)]
    public struct StatFs
    {
        public long Type;
        public long BlockSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public long FsId;
        public long NameLength;
        public long FragmentSize;
        public long Flags;
    }

    /// <summary>struct timespec[2] for utimensat.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimePair
    {
        public long AccessSeconds;
        public long AccessNanoseconds;
        public long ModifySeconds;
        public long ModifyNanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int statx(SafeHandle dirfd, ref byte path, int flags, uint mask, out Statx result);

    [DllImport("libc", SetLastError = true)]
    public static extern int fstatfs(SafeHandle fd, out StatFs result);

    [DllImport("libc", SetLastError = true)]
    public static extern int utimensat(SafeHandle dirfd, ref byte path, ref TimePair times, int flags);
}
