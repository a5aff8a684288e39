// LibC.Xattr.cs — extended attributes by path (sys/xattr.h). The paths are "N" relative to a
// worker's current directory, which is /proc/self/fd (see ProcSelfFd), so attributes of O_PATH
// handles (symlinks included) are reached without opening the file.
using System.Runtime.InteropServices;

namespace VhostUser.Devices.Fs.Interop;

internal static partial class LibC
{
    public const int XATTR_CREATE = 1;
    public const int XATTR_REPLACE = 2;

    [DllImport("libc", SetLastError = true)]
    public static extern nint getxattr(ref byte path, ref byte name, ref byte value, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern nint lgetxattr(ref byte path, ref byte name, ref byte value, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern int setxattr(ref byte path, ref byte name, ref byte value, nuint size, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern nint listxattr(ref byte path, ref byte list, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern int removexattr(ref byte path, ref byte name);

    [DllImport("libc", SetLastError = true)]
    public static extern nint fgetxattr(SafeHandle fd, ref byte name, ref byte value, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern int fsetxattr(SafeHandle fd, ref byte name, ref byte value, nuint size, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern nint flistxattr(SafeHandle fd, ref byte list, nuint size);

    [DllImport("libc", SetLastError = true)]
    public static extern int fremovexattr(SafeHandle fd, ref byte name);
}
