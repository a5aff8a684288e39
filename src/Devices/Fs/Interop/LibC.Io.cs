// LibC.Io.cs — data and sync calls on open files (unistd.h, fcntl.h, sys/ioctl.h).
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    public const int SEEK_SET = 0;
    public const int SEEK_DATA = 3;
    public const int SEEK_HOLE = 4;

    [DllImport("libc", SetLastError = true)]
    public static extern nint pread(SafeHandle fd, ref byte buffer, nuint count, long offset);

    [DllImport("libc", SetLastError = true)]
    public static extern nint pwrite(SafeHandle fd, ref byte buffer, nuint count, long offset);

    [DllImport("libc", SetLastError = true)]
    public static extern int ftruncate(SafeHandle fd, long length);

    [DllImport("libc", SetLastError = true)]
    public static extern int fsync(SafeHandle fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fdatasync(SafeHandle fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int syncfs(SafeHandle fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fallocate(SafeHandle fd, int mode, long offset, long length);

    [DllImport("libc", SetLastError = true)]
    public static extern long lseek(SafeHandle fd, long offset, int whence);

    [DllImport("libc", SetLastError = true)]
    public static extern nint copy_file_range(SafeHandle fdIn, ref long offsetIn, SafeHandle fdOut, ref long offsetOut, nuint length, uint flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int ioctl(SafeHandle fd, nuint request, ref int argument);

    [DllImport("libc", SetLastError = true)]
    public static extern nint getdents64(SafeHandle fd, ref byte buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int dup(SafeHandle fd);
}
