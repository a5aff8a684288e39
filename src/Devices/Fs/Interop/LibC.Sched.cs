// LibC.Sched.cs — what the sandbox and per-request credentials need: unshare, mount, pivot_root,
// chroot, fchdir, per-thread fsuid/fsgid, capability bounding (sched.h, sys/mount.h, unistd.h,
// sys/fsuid.h, sys/prctl.h).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    public const int CLONE_FS = 0x200;
    public const int CLONE_NEWNS = 0x20000;
    public const int CLONE_NEWNET = 0x40000000;
    public const int CLONE_NEWIPC = 0x08000000;

    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_RELATIME = 1 << 21;
    public const ulong MS_BIND = 0x1000;
    public const ulong MS_REC = 0x4000;
    public const ulong MS_SLAVE = 1 << 19;
    public const int MNT_DETACH = 2;

    public const int PR_CAPBSET_DROP = 24;

    /// <summary>open_tree(2) flag: a detached copy of the mount (needs CAP_SYS_ADMIN).</summary>
    public const uint OPEN_TREE_CLONE = 1;

    private static readonly long SysPivotRoot = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 41 : 155;

    private const long SysOpenTree = 428; // same number on every architecture (added after the unification)

    [DllImport("libc", SetLastError = true)]
    public static extern int unshare(int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int mount(ref byte source, ref byte target, ref byte fstype, ulong flags, nint data);

    [DllImport("libc", SetLastError = true)]
    public static extern int umount2(ref byte target, int flags);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long syscall_pivot_root(long number, ref byte newRoot, ref byte putOld);

    public static int pivot_root(ref byte newRoot, ref byte putOld) => (int)syscall_pivot_root(SysPivotRoot, ref newRoot, ref putOld);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long syscall_open_tree(long number, int dirfd, ref byte path, uint flags);

    /// <summary>open_tree(2) (Linux 5.2): an fd on a mount, or (OPEN_TREE_CLONE) on a detached copy of it.</summary>
    public static int open_tree(int dirfd, ref byte path, uint flags) => (int)syscall_open_tree(SysOpenTree, dirfd, ref path, flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int chroot(ref byte path);

    [DllImport("libc", SetLastError = true)]
    public static extern int chdir(ref byte path);

    [DllImport("libc", SetLastError = true)]
    public static extern int fchdir(SafeHandle fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int setfsuid(uint uid);

    [DllImport("libc", SetLastError = true)]
    public static extern int setfsgid(uint gid);

    [DllImport("libc", SetLastError = true)]
    public static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport("libc", SetLastError = true)]
    public static extern int umask(int mask);

    public const int RLIMIT_NOFILE = 7;

    /// <summary>struct rlimit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int setrlimit(int resource, ref RLimit limit);

    [DllImport("libc", SetLastError = true)]
    public static extern int getrlimit(int resource, out RLimit limit);

    /// <summary>chown(2) of the --socket-group socket (uint.MaxValue: leave the owner).</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern int chown(ref byte path, uint owner, uint group);

    /// <summary>chmod(2) of the --socket-group socket.</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern int chmod(ref byte path, uint mode);

    /// <summary>A string as the NUL-terminated UTF-8 bytes the calls here take for paths and names.</summary>
    public static byte[] NulTerminated(string text)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(text) + 1];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>getgrnam_r(3): the group entry of a name (0, or an errno; *result null if there is none).</summary>
    [DllImport("libc")]
    public static extern int getgrnam_r(ref byte name, out GroupEntry group, byte[] buffer, nuint length, out nint result);

    /// <summary>struct group (grp.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct GroupEntry
    {
        public nint Name;
        public nint Password;
        public uint Gid;
        public nint Members;
    }
}
