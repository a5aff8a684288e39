// LibC.File.cs — <fcntl.h>, <sys/uio.h>, <linux/falloc.h>, <linux/fs.h>: the calls a block back
// end makes on its image file or block device (open flags, vectored I/O at an offset,
// fallocate, fdatasync, block-device size ioctls). `man 2 preadv2` applies.
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const int O_RDWR = 2;
    public const int EOPNOTSUPP = 95;
    public const int ENOSPC = 28;
    public const int EIO = 5;

    /// <summary>O_DIRECT differs by architecture: 040000 on x86-64, 0200000 on arm64.</summary>
    public static int O_DIRECT => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 0x4000 : 0x10000;

    public const int FALLOC_FL_KEEP_SIZE = 0x01;
    public const int FALLOC_FL_PUNCH_HOLE = 0x02;
    public const int FALLOC_FL_ZERO_RANGE = 0x10;

    public const int RWF_DSYNC = 0x02;

    public const uint S_IFBLK = 0x6000;
    public const uint S_IFREG = 0x8000;

    /// <summary>_IOR(0x12, 114, size_t): size of a block device in bytes.</summary>
    public const ulong BLKGETSIZE64 = 0x80081272;

    /// <summary>_IO(0x12, 104): logical sector size of a block device.</summary>
    public const ulong BLKSSZGET = 0x1268;

    /// <summary>_IO(0x12, 123): physical sector size of a block device.</summary>
    public const ulong BLKPBSZGET = 0x127B;

    /// <summary>_IO(0x12, 119): discard a byte range { u64 start, u64 length } of a block device.</summary>
    public const ulong BLKDISCARD = 0x1277;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint preadv2(int fd, iovec* iov, int iovcnt, long offset, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint pwritev2(int fd, iovec* iov, int iovcnt, long offset, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fdatasync(int fd);

    /// <summary>ioctl with a pointer argument (variadic in C; the pointer goes in the third register).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ioctl(int fd, ulong request, void* argument);
}
