// LibC.Errno.cs — errno values the wrappers test for, and the one helper that turns a failed
// call into an exception (design README 1.6: OS failures surface as IOException/SocketException).
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EBADF = 9;
    public const int ENOENT = 2;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int ECONNRESET = 104;
    public const int ENOTCONN = 107;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial long lseek(int fd, long offset, int whence);

    public const int O_RDONLY = 0;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int fstat(int fd, byte* statBuffer);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int lstat(string path, byte* statBuffer);

    /// <summary>Offset of st_mode in struct stat: x86-64 has st_nlink before it, arm64 after.</summary>
    public static int StatModeOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int FD_CLOEXEC = 1;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public static int LastErrno => Marshal.GetLastPInvokeError();
}

/// <summary>Turns errno into the exception type callers expect.</summary>
internal static class ThrowHelper
{
    public static IOException IOError(string operation, int errno)
    {
        var text = Marshal.GetPInvokeErrorMessage(errno);
        return new IOException($"{operation} failed: {text} (errno {errno})", errno);
    }

    public static SocketException SocketError(int errno) => new(errno);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowIOError(string operation) => throw IOError(operation, LibC.LastErrno);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowIOError(string operation, int errno) => throw IOError(operation, errno);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowSocketError() => throw SocketError(LibC.LastErrno);
}
