// SeccompFilter.cs — the sandbox's seccomp filter: a short deny list, not an allow list. The .NET
// runtime's own system calls (GC, threads, signals, membarrier) change between versions, and an
// allow list that misses one kills the daemon at random; the system calls below are ones neither
// the runtime nor a file server ever needs, and are what an attacker who took over the process
// would reach for (debugging other processes, loading kernel code, mounting, leaving the
// namespaces, keyrings, BPF). A denied call fails with EPERM rather than killing the process, or,
// as --seccomp asks (virtiofsd's option), kills it, raises SIGSYS, or is only logged.
//
// Installed with SECCOMP_FILTER_FLAG_TSYNC: every thread of the process gets the filter, and with
// it no_new_privs, including the runtime threads that existed before the sandbox.
//
// Program (classic BPF over struct seccomp_data: nr at offset 0, arch at 4, args[0] at 16):
//   load arch; not this architecture's → deny; load nr; [x86-64: x32 numbers (bit 30) → deny];
//   unshare → allowed only with flags == CLONE_FS; one "nr == N → deny" per listed call; allow.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs;

internal static class SeccompFilter
{
    private const ushort LoadWordAbsolute = 0x20; // BPF_LD | BPF_W | BPF_ABS
    private const ushort JumpIfEqual = 0x15;      // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JumpIfAtLeast = 0x35;    // BPF_JMP | BPF_JGE | BPF_K
    private const ushort Return = 0x06;           // BPF_RET | BPF_K
    private const uint X32SyscallBit = 0x40000000;
    private const uint NrOffset = 0;    // seccomp_data.nr
    private const uint ArchOffset = 4;  // seccomp_data.arch
    private const uint Arg0Offset = 16; // seccomp_data.args[0], low word first (both architectures are little-endian)
    /// <summary>The default action on a denied call: fail it with EPERM.</summary>
    public const uint Eperm = LibC.SECCOMP_RET_ERRNO | Fuse.Errno.EPERM;
    private const int UnshareX64 = 272;
    private const int UnshareArm64 = 97;

    /// <summary>The denied system calls: name, x86-64 number, asm-generic (arm64) number; -1 where the call does not exist.</summary>
    private static readonly (string Name, int X64, int Arm64)[] Denied =
    [
        ("ptrace", 101, 117), ("process_vm_readv", 310, 270), ("process_vm_writev", 311, 271), ("pidfd_getfd", 438, 438),
        ("kexec_load", 246, 104), ("kexec_file_load", 320, 294), ("init_module", 175, 105), ("finit_module", 313, 273),
        ("delete_module", 176, 106), ("bpf", 321, 280), ("perf_event_open", 298, 241), ("userfaultfd", 323, 282),
        ("mount", 165, 40), ("umount2", 166, 39), ("pivot_root", 155, 41), ("chroot", 161, 51), ("setns", 308, 268),
        ("open_tree", 428, 428), ("move_mount", 429, 429), ("fsopen", 430, 430), ("fsconfig", 431, 431),
        ("fsmount", 432, 432), ("fspick", 433, 433), ("mount_setattr", 442, 442), ("keyctl", 250, 219), ("add_key", 248, 217),
        ("request_key", 249, 218), ("swapon", 167, 224), ("swapoff", 168, 225), ("reboot", 169, 142), ("acct", 163, 89),
        ("settimeofday", 164, 170), ("clock_settime", 227, 112), ("adjtimex", 159, 171), ("clock_adjtime", 305, 266),
        ("sethostname", 170, 161), ("setdomainname", 171, 162), ("syslog", 103, 116), ("iopl", 172, -1), ("ioperm", 173, -1),
        ("uselib", 134, -1), ("vhangup", 153, 58), ("lookup_dcookie", 212, 18), ("fanotify_init", 300, 262),
        ("io_uring_setup", 425, 425),
    ];

    /// <summary>How many system calls the filter denies on this architecture (unshare, allowed for CLONE_FS alone, included).</summary>
    public static int DeniedCount => Numbers().Length + 1;

    /// <summary>Installs the filter on every thread; returns 0 or the errno (or -1: architecture not covered).</summary>
    public static int Install(SeccompAction action)
    {
        var program = Build(action);
        if (program is null)
        {
            return -1;
        }
        var pinned = GCHandle.Alloc(program, GCHandleType.Pinned);
        try
        {
            var fprog = new LibC.SockFprog { Length = (ushort)program.Length, Filter = pinned.AddrOfPinnedObject() };
            long rc = LibC.seccomp(LibC.SECCOMP_SET_MODE_FILTER, LibC.SECCOMP_FILTER_FLAG_TSYNC, ref fprog);
            return rc == 0 ? 0 : rc < 0 ? Fuse.Errno.Last : Fuse.Errno.EAGAIN; // > 0: a thread could not take the filter
        }
        finally
        {
            pinned.Free(); // the kernel copied the program
        }
    }

    /// <summary>The BPF program for this architecture (null where none is defined).</summary>
    public static LibC.SockFilter[]? Build(SeccompAction action = SeccompAction.Errno)
    {
        uint deny = ReturnValue(action);
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        if (!x64 && RuntimeInformation.ProcessArchitecture != Architecture.Arm64)
        {
            return null;
        }
        var numbers = Numbers();
        var program = new List<LibC.SockFilter>
        {
            Statement(LoadWordAbsolute, ArchOffset),
            Jump(JumpIfEqual, x64 ? LibC.AUDIT_ARCH_X86_64 : LibC.AUDIT_ARCH_AARCH64, 1, 0),
            Statement(Return, deny),                                            // another ABI (i386 on x86-64)
            Statement(LoadWordAbsolute, NrOffset),
        };
        int unshareAt = program.Count + (x64 ? 1 : 0);
        int allowAt = unshareAt + 5 + numbers.Length;
        int denyAt = allowAt + 1;
        if (x64)
        {
            program.Add(Jump(JumpIfAtLeast, X32SyscallBit, To(denyAt, program.Count), 0));
        }
        // unshare(CLONE_FS) alone is allowed: the xattr calls give their thread its own current
        // directory with it (PassthroughFs.EnterProcSelfFd). Any namespace flag is denied.
        program.Add(Jump(JumpIfEqual, (uint)(x64 ? UnshareX64 : UnshareArm64), 0, 4));
        program.Add(Statement(LoadWordAbsolute, Arg0Offset));
        program.Add(Jump(JumpIfEqual, (uint)LibC.CLONE_FS, 0, To(denyAt, program.Count)));
        program.Add(Statement(LoadWordAbsolute, Arg0Offset + 4));
        program.Add(Jump(JumpIfEqual, 0, To(allowAt, program.Count), To(denyAt, program.Count)));
        foreach (int number in numbers)
        {
            program.Add(Jump(JumpIfEqual, (uint)number, To(denyAt, program.Count), 0));
        }
        program.Add(Statement(Return, LibC.SECCOMP_RET_ALLOW));
        program.Add(Statement(Return, deny));
        return [.. program];
    }

    /// <summary>The filter's return value for a denied call.</summary>
    public static uint ReturnValue(SeccompAction action) => action switch
    {
        SeccompAction.Kill => LibC.SECCOMP_RET_KILL_PROCESS,
        SeccompAction.Trap => LibC.SECCOMP_RET_TRAP,
        SeccompAction.Log => LibC.SECCOMP_RET_LOG,
        _ => Eperm,
    };

    /// <summary>The jump offset from the instruction about to be added at <paramref name="from"/> to <paramref name="target"/>.</summary>
    private static byte To(int target, int from) => checked((byte)(target - from - 1));

    private static int[] Numbers()
    {
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        return Denied.Select(d => x64 ? d.X64 : d.Arm64).Where(n => n >= 0).ToArray();
    }

    private static LibC.SockFilter Statement(ushort code, uint k) => new() { Code = code, K = k };

    private static LibC.SockFilter Jump(ushort code, uint k, byte jumpTrue, byte jumpFalse) =>
        new() { Code = code, K = k, JumpTrue = jumpTrue, JumpFalse = jumpFalse };
}
