// SeccompFilterTests.cs — the sandbox's BPF program, run through a small classic-BPF interpreter
// (the instructions it uses: load word, jeq, jge, ret) with the seccomp_data the kernel would give
// it: the denied calls fail with EPERM, what the daemon and the runtime use is allowed (unshare
// only for CLONE_FS alone), and another ABI (i386 or x32 numbers on x86-64) is refused.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Tests.Fs;

public sealed class SeccompFilterTests
{
    private const uint Allow = 0x7fff0000;
    private const uint DenyEperm = 0x00050001;
    private static readonly bool X64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
    private static readonly uint Arch = X64 ? 0xC000003E : 0xC00000B7;

    [Fact]
    public void Build_DeniedCalls_FailWithEperm()
    {
        // ptrace, mount, unshare, setns, bpf, process_vm_readv, init_module, pivot_root (x86-64 / asm-generic numbers).
        int[] denied = X64 ? [101, 165, 272, 308, 321, 310, 175, 155] : [117, 40, 97, 268, 280, 270, 105, 41];
        foreach (int nr in denied)
        {
            Assert.Equal(DenyEperm, Run(Arch, (uint)nr));
        }
        Assert.Equal(SeccompFilter.DeniedCount, Enumerable.Range(0, 1024).Count(nr => Run(Arch, (uint)nr) == DenyEperm));
    }

    [Fact]
    public void Build_CallsTheDaemonUses_AreAllowed()
    {
        // read, write, close, mmap, futex, epoll_wait, openat, statx, preadv2, pwritev2, membarrier, openat2,
        // name_to_handle_at, open_by_handle_at, setfsuid, clone3.
        int[] used = X64 ? [0, 1, 3, 9, 202, 232, 257, 332, 327, 328, 324, 437, 303, 304, 122, 435]
            : [63, 64, 57, 222, 98, 22, 56, 291, 286, 287, 283, 437, 264, 265, 151, 435];
        foreach (int nr in used)
        {
            Assert.Equal(Allow, Run(Arch, (uint)nr));
        }
    }

    [Fact]
    public void Build_Unshare_OnlyCloneFsAlone()
    {
        uint unshare = X64 ? 272u : 97u;
        Assert.Equal(Allow, Run(Arch, unshare, 0x200));                 // CLONE_FS: the xattr calls' own current directory
        Assert.Equal(DenyEperm, Run(Arch, unshare, 0x20000));           // CLONE_NEWNS
        Assert.Equal(DenyEperm, Run(Arch, unshare, 0x10000200));        // CLONE_FS | CLONE_NEWUSER
        Assert.Equal(DenyEperm, Run(Arch, unshare, 0x200 | (1UL << 32))); // high bits set
    }

    [Fact]
    public void Build_OtherAbi_IsRefused()
    {
        Assert.Equal(DenyEperm, Run(0x40000003 /* AUDIT_ARCH_I386 */, 0));
        if (X64)
        {
            Assert.Equal(DenyEperm, Run(Arch, 0x40000000 | 0)); // x32 read
        }
    }

    /// <summary>Runs the program over seccomp_data { nr, arch, args[0] }; returns the SECCOMP_RET value.</summary>
    private static uint Run(uint arch, uint nr, ulong arg0 = 0)
    {
        var program = SeccompFilter.Build()!;
        Assert.InRange(program.Length, 1, 4096); // BPF_MAXINSNS
        uint accumulator = 0;
        for (int pc = 0, steps = 0; steps < program.Length; steps++)
        {
            LibC.SockFilter insn = program[pc];
            switch (insn.Code)
            {
                case 0x20: // ld [k]
                    accumulator = insn.K switch { 0 => nr, 4 => arch, 16 => (uint)arg0, 20 => (uint)(arg0 >> 32), _ => throw new InvalidOperationException($"load at {insn.K}") };
                    pc++;
                    break;
                case 0x15: // jeq #k
                    pc += 1 + (accumulator == insn.K ? insn.JumpTrue : insn.JumpFalse);
                    break;
                case 0x35: // jge #k
                    pc += 1 + (accumulator >= insn.K ? insn.JumpTrue : insn.JumpFalse);
                    break;
                case 0x06: // ret #k
                    return insn.K;
                default:
                    throw new InvalidOperationException($"instruction 0x{insn.Code:x}");
            }
            Assert.InRange(pc, 0, program.Length - 1);
        }
        throw new InvalidOperationException("the program did not return");
    }
}
