// LibC.Fcntl.cs — open, openat2, file handles, fcntl locks and the *at calls that create, remove
// and rename names (fcntl.h, unistd.h, stdio.h). Safe signatures only: a path is a NUL-terminated
// byte string passed as `ref byte`, fds are SafeHandles (AddRef'd for the call), results come back
// through `out`/`ref` structs. Constants are the x86-64/arm64 Linux values (asm-generic).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    /// <summary>x86-64 and arm64 differ in a few open flags (arm64 uses the asm-generic values).</summary>
    private static readonly bool X64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_ACCMODE = 3;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public static readonly int O_DIRECT = X64 ? 0x4000 : 0x10000;
    public static readonly int O_DIRECTORY = X64 ? 0x10000 : 0x4000;
    public static readonly int O_NOFOLLOW = X64 ? 0x20000 : 0x8000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;
    public static readonly int O_TMPFILE = 0x400000 | O_DIRECTORY;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_SYMLINK_FOLLOW = 0x400;
    public const int AT_NO_AUTOMOUNT = 0x800;
    public const int AT_EMPTY_PATH = 0x1000;

    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;

    public const int RENAME_NOREPLACE = 1;
    public const int RENAME_EXCHANGE = 2;
    public const int RENAME_WHITEOUT = 4;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_OFD_GETLK = 36;
    public const int F_OFD_SETLK = 37;
    public const int F_OFD_SETLKW = 38;
    public const short F_RDLCK = 0;
    public const short F_WRLCK = 1;
    public const short F_UNLCK = 2;

    private const long SYS_openat2 = 437; // same number on every architecture (added after the unification)

    /// <summary>struct open_how (openat2.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>struct flock (64-bit layout: short, short, off_t, off_t, pid_t + padding).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int openat(SafeHandle dirfd, ref byte path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int openat(int dirfd, ref byte path, int flags, int mode);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long syscall_openat2(long number, SafeHandle dirfd, ref byte path, ref OpenHow how, nuint size);

    /// <summary>sizeof(struct open_how), computed once (Marshal.SizeOf looks the type up on every call).</summary>
    private static readonly nuint OpenHowSize = (nuint)Marshal.SizeOf<OpenHow>();

    public static int openat2(SafeHandle dirfd, ref byte path, ref OpenHow how) =>
        (int)syscall_openat2(SYS_openat2, dirfd, ref path, ref how, OpenHowSize);

    [DllImport("libc", SetLastError = true)]
    public static extern int name_to_handle_at(SafeHandle dirfd, ref byte path, ref byte handle, out int mountId, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int open_by_handle_at(SafeHandle mountFd, ref byte handle, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fcntl(SafeHandle fd, int cmd, ref Flock flock);

    [DllImport("libc", SetLastError = true)]
    public static extern int fcntl(SafeHandle fd, int cmd, int arg);

    [DllImport("libc", SetLastError = true)]
    public static extern int mkdirat(SafeHandle dirfd, ref byte path, uint mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int mknodat(SafeHandle dirfd, ref byte path, uint mode, ulong dev);

    [DllImport("libc", SetLastError = true)]
    public static extern int symlinkat(ref byte target, SafeHandle dirfd, ref byte path);

    [DllImport("libc", SetLastError = true)]
    public static extern int unlinkat(SafeHandle dirfd, ref byte path, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int renameat2(SafeHandle olddirfd, ref byte oldpath, SafeHandle newdirfd, ref byte newpath, uint flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int linkat(SafeHandle olddirfd, ref byte oldpath, SafeHandle newdirfd, ref byte newpath, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern nint readlinkat(SafeHandle dirfd, ref byte path, ref byte buffer, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern int fchownat(SafeHandle dirfd, ref byte path, uint owner, uint group, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int fchmodat(SafeHandle dirfd, ref byte path, uint mode, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int fchmod(SafeHandle fd, uint mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int faccessat(SafeHandle dirfd, ref byte path, int mode, int flags);
}
