// EventFd.cs — an eventfd used as a notifier: kick (front end → back end), call and err
// (back end → front end), and the workers' own wake-up fd. Signal writes 8 bytes, Drain reads them.
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>An eventfd notifier. Owns its descriptor.</summary>
public sealed class EventFd : IDisposable
{
    private readonly FileDescriptor _fd;

    private EventFd(FileDescriptor fd) => _fd = fd;

    /// <summary>The owned descriptor (to pass over a socket or register with epoll).</summary>
    public FileDescriptor Descriptor => _fd;

    /// <summary>Creates a new non-blocking, close-on-exec eventfd.</summary>
    public static EventFd Create()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError("eventfd");
        }
        return new EventFd(new FileDescriptor(fd));
    }

    /// <summary>Takes ownership of a received descriptor that is expected to be an eventfd.</summary>
    public static EventFd FromDescriptor(FileDescriptor fd) => new(fd);

    /// <summary>
    /// Why <paramref name="fd"/> cannot be signalled as a call or err notifier, or null if it can.
    /// <see cref="Signal"/> writes 8 bytes: that fails on a descriptor not open for writing (the
    /// read end of a pipe), and on a pipe or socket nobody drains it would block the worker once
    /// the buffer is full, so those are refused too. QEMU sends eventfds (the rst allows a pipe only
    /// on hosts without eventfd); anything else is the sender's mistake.
    /// </summary>
    public static string? WhyNotSignallable(FileDescriptor fd)
    {
        var kind = fd.GetKind();
        if (kind is FileKind.Fifo or FileKind.Socket or FileKind.Directory)
        {
            return $"is a {kind.ToString().ToLowerInvariant()}, not an eventfd";
        }
        return fd.IsOpenForWriting() ? null : "is not open for writing";
    }

    /// <summary>Adds one to the counter, waking whoever waits on it.</summary>
    public void Signal()
    {
        ulong one = 1;
        using var lease = new FdLease(_fd);
        nint n;
        unsafe
        {
            // SAFETY: writes 8 bytes from a local; eventfd requires exactly 8.
            do
            {
                n = LibC.write(lease.Fd, (byte*)&one, 8);
            }
            while (n < 0 && LibC.LastErrno == LibC.EINTR);
        }
        // EAGAIN means the counter is saturated: the reader is woken already.
        if (n < 0 && LibC.LastErrno != LibC.EAGAIN)
        {
            ThrowHelper.ThrowIOError("write(eventfd)");
        }
    }

    /// <summary>Reads and resets the counter. Returns false if it was zero.</summary>
    /// <remarks>
    /// Never blocks on descriptors created by <see cref="Create"/>. A received descriptor may be
    /// blocking: call this only after epoll reported it readable.
    /// </remarks>
    public bool Drain()
    {
        ulong value = 0;
        using var lease = new FdLease(_fd);
        nint n;
        unsafe
        {
            // SAFETY: reads 8 bytes into a local; eventfd returns exactly 8 or fails.
            do
            {
                n = LibC.read(lease.Fd, (byte*)&value, 8);
            }
            while (n < 0 && LibC.LastErrno == LibC.EINTR);
        }
        if (n < 0)
        {
            int errno = LibC.LastErrno;
            if (errno == LibC.EAGAIN)
            {
                return false;
            }
            ThrowHelper.ThrowIOError("read(eventfd)", errno);
        }
        return n == 8 && value != 0;
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();
}
