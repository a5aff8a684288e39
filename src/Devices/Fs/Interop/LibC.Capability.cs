// LibC.Capability.cs — what the sandbox drops privileges with: capget/capset (the calling thread's
// effective, permitted and inheritable sets; linux/capability.h, version 3 = two 32-bit words),
// prctl options for no_new_privs and the ambient set, the seccomp system call with its BPF
// program structs (linux/filter.h, linux/seccomp.h), and geteuid.
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    public const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;

    public const uint SECCOMP_SET_MODE_FILTER = 1;
    public const uint SECCOMP_FILTER_FLAG_TSYNC = 1;
    public const uint SECCOMP_RET_ALLOW = 0x7fff0000;
    public const uint SECCOMP_RET_ERRNO = 0x00050000;
    public const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public const uint SECCOMP_RET_TRAP = 0x00030000;
    public const uint SECCOMP_RET_LOG = 0x7ffc0000;

    /// <summary>AUDIT_ARCH_X86_64 and AUDIT_ARCH_AARCH64 (linux/audit.h): seccomp_data.arch.</summary>
    public const uint AUDIT_ARCH_X86_64 = 0xC000003E;
    public const uint AUDIT_ARCH_AARCH64 = 0xC00000B7;

    private static readonly long SysSeccomp = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 277 : 317;

    /// <summary>struct __user_cap_header_struct.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    /// <summary>struct __user_cap_data_struct[2]: capabilities 0–31 in the first word, 32–63 in the second.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapData
    {
        public uint Effective0;
        public uint Permitted0;
        public uint Inheritable0;
        public uint Effective1;
        public uint Permitted1;
        public uint Inheritable1;
    }

    /// <summary>struct sock_filter: one classic BPF instruction.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilter
    {
        public ushort Code;
        public byte JumpTrue;
        public byte JumpFalse;
        public uint K;
    }

    /// <summary>struct sock_fprog: instruction count and a pointer to the (pinned) instructions.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFprog
    {
        public ushort Length;
        public nint Filter;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int capget(ref CapHeader header, out CapData data);

    [DllImport("libc", SetLastError = true)]
    public static extern int capset(ref CapHeader header, ref CapData data);

    [DllImport("libc")]
    public static extern uint geteuid();

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long syscall_seccomp(long number, uint operation, uint flags, ref SockFprog program);

    /// <summary>seccomp(2): 0, -1 with errno, or (TSYNC) the id of a thread that could not be synchronised.</summary>
    public static long seccomp(uint operation, uint flags, ref SockFprog program) => syscall_seccomp(SysSeccomp, operation, flags, ref program);
}
