// TimerFd.cs — a monotonic timerfd: arm it, watch it with epoll, drain it when it fires.
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>A one-shot or periodic monotonic timer as a file descriptor.</summary>
public sealed class TimerFd : IDisposable
{
    private readonly FileDescriptor _fd;

    private TimerFd(FileDescriptor fd) => _fd = fd;

    /// <summary>The descriptor (register it with epoll for EPOLLIN).</summary>
    public FileDescriptor Descriptor => _fd;

    /// <summary>Creates a disarmed, non-blocking timer.</summary>
    public static TimerFd Create()
    {
        int fd = LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError("timerfd_create");
        }
        return new TimerFd(new FileDescriptor(fd));
    }

    /// <summary>Fires once after <paramref name="delay"/> (then every <paramref name="interval"/> if non-zero).</summary>
    public void Arm(TimeSpan delay, TimeSpan interval = default)
    {
        // A zero it_value disarms the timer, so round a due time of zero up to 1 ns.
        var value = delay <= TimeSpan.Zero ? new LibC.timespec { tv_nsec = 1 } : ToTimespec(delay);
        var spec = new LibC.itimerspec { it_value = value, it_interval = ToTimespec(interval) };
        Set(spec);
    }

    /// <summary>Stops the timer.</summary>
    public void Disarm() => Set(default);

    /// <summary>Reads the expiration count (0 if it has not fired).</summary>
    public ulong Drain()
    {
        Span<byte> buffer = stackalloc byte[8];
        return _fd.TryRead(buffer, out int n) && n == 8 ? BitConverter.ToUInt64(buffer) : 0;
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();

    private void Set(LibC.itimerspec spec)
    {
        using var lease = new FdLease(_fd);
        int rc;
        unsafe
        {
            // SAFETY: spec is a local itimerspec; the old value is not requested.
            rc = LibC.timerfd_settime(lease.Fd, 0, &spec, null);
        }
        if (rc < 0)
        {
            ThrowHelper.ThrowIOError("timerfd_settime");
        }
    }

    private static LibC.timespec ToTimespec(TimeSpan span)
    {
        long ticks = Math.Max(span.Ticks, 0);
        return new LibC.timespec { tv_sec = ticks / TimeSpan.TicksPerSecond, tv_nsec = ticks % TimeSpan.TicksPerSecond * 100 };
    }
}
