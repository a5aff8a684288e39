// LibC.TimerFd.cs — <sys/timerfd.h>: timers a queue worker can wait on with epoll (rate limits,
// device timing).
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_NONBLOCK = 0x800;
    public const int TFD_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    public struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct itimerspec
    {
        public timespec it_interval;
        public timespec it_value;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_create(int clockId, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int timerfd_settime(int fd, int flags, itimerspec* newValue, itimerspec* oldValue);
}
