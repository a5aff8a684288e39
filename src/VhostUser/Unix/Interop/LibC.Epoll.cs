// LibC.Epoll.cs — <sys/epoll.h>: the queue workers' wait over kick fds, a wake fd and device fds.
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 0x8000_0000;

    /// <summary>struct epoll_event is packed on x86-64 (12 bytes) but not on arm64 (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct epoll_event_x64
    {
        public uint events;
        public ulong data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct epoll_event_aligned
    {
        public uint events;
        public ulong data;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int epoll_wait(int epfd, void* events, int maxEvents, int timeout);
}
