// LibC.IoUring.cs — <linux/io_uring.h> through raw system calls (no liburing): io_uring_setup,
// io_uring_enter and io_uring_register, the parameter and ring-offset structs, the submission
// and completion entry layouts, and the opcodes a block back end uses. Syscall numbers 425–427
// are the same on every architecture (they are in the generic table since Linux 5.1).
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const long SYS_io_uring_setup = 425;
    public const long SYS_io_uring_enter = 426;
    public const long SYS_io_uring_register = 427;

    public const long IORING_OFF_SQ_RING = 0;
    public const long IORING_OFF_CQ_RING = 0x8000000;
    public const long IORING_OFF_SQES = 0x10000000;

    public const uint IORING_FEAT_SINGLE_MMAP = 1;
    public const uint IORING_ENTER_GETEVENTS = 1;
    public const uint IORING_REGISTER_EVENTFD = 4;
    public const uint IORING_FSYNC_DATASYNC = 1;

    public const byte IORING_OP_NOP = 0;
    public const byte IORING_OP_READV = 1;
    public const byte IORING_OP_WRITEV = 2;
    public const byte IORING_OP_FSYNC = 3;
    public const byte IORING_OP_FALLOCATE = 17;
    public const byte IORING_OP_URING_CMD = 46;

    /// <summary>_IO(0x12, 0): io_uring block command "discard" (linux/blkdev.h, Linux 6.12).</summary>
    public const uint BLOCK_URING_CMD_DISCARD = 0x1200;

    public const int EBUSY = 16;

    /// <summary>
    /// syscall(2). Variadic in C, but glibc's x86-64 and arm64 implementations only move the
    /// integer argument registers, so a fixed six-argument signature is called correctly.
    /// </summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /// <summary>struct io_sqring_offsets (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct io_sqring_offsets
    {
        public uint head;
        public uint tail;
        public uint ring_mask;
        public uint ring_entries;
        public uint flags;
        public uint dropped;
        public uint array;
        public uint resv1;
        public ulong user_addr;
    }

    /// <summary>struct io_cqring_offsets (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct io_cqring_offsets
    {
        public uint head;
        public uint tail;
        public uint ring_mask;
        public uint ring_entries;
        public uint overflow;
        public uint cqes;
        public uint flags;
        public uint resv1;
        public ulong user_addr;
    }

    /// <summary>struct io_uring_params (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct io_uring_params
    {
        public uint sq_entries;
        public uint cq_entries;
        public uint flags;
        public uint sq_thread_cpu;
        public uint sq_thread_idle;
        public uint features;
        public uint wq_fd;
        public fixed uint resv[3];
        public io_sqring_offsets sq_off;
        public io_cqring_offsets cq_off;
    }

    /// <summary>struct io_uring_sqe (64 bytes), the fields this back end fills.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct io_uring_sqe
    {
        [FieldOffset(0)] public byte opcode;
        [FieldOffset(1)] public byte flags;
        [FieldOffset(2)] public ushort ioprio;
        [FieldOffset(4)] public int fd;
        [FieldOffset(8)] public ulong off;
        [FieldOffset(16)] public ulong addr;
        [FieldOffset(24)] public uint len;
        [FieldOffset(28)] public uint op_flags;
        [FieldOffset(32)] public ulong user_data;
        [FieldOffset(40)] public ushort buf_index;
        [FieldOffset(42)] public ushort personality;
        [FieldOffset(44)] public int splice_fd_in;
        [FieldOffset(48)] public ulong addr3;
        [FieldOffset(56)] public ulong pad;
    }

    /// <summary>struct io_uring_cqe (16 bytes without CQE32).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct io_uring_cqe
    {
        public ulong user_data;
        public int res;
        public uint flags;
    }
}
