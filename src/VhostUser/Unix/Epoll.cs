// Epoll.cs — an epoll instance: queue workers wait on kick fds, their wake eventfd and any fds a
// device registered. Each registration carries a caller-chosen 64-bit token.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>One ready descriptor reported by <see cref="Epoll.Wait"/>.</summary>
/// <param name="Events">EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits.</param>
/// <param name="Token">The token given at registration.</param>
public readonly record struct EpollEvent(uint Events, ulong Token);

/// <summary>Epoll event bits.</summary>
[Flags]
public enum EpollEvents : uint
{
    /// <summary>No events.</summary>
    None = 0,
    /// <summary>Readable.</summary>
    In = LibC.EPOLLIN,
    /// <summary>Writable.</summary>
    Out = LibC.EPOLLOUT,
    /// <summary>Error.</summary>
    Error = LibC.EPOLLERR,
    /// <summary>Hang-up.</summary>
    HangUp = LibC.EPOLLHUP,
    /// <summary>Peer closed its writing half.</summary>
    ReadHangUp = LibC.EPOLLRDHUP,
    /// <summary>Report changes of readiness only (the owner reads or writes until EAGAIN).</summary>
    EdgeTriggered = LibC.EPOLLET,
}

/// <summary>An epoll instance. Owns its descriptor, not the registered ones.</summary>
public sealed class Epoll : IDisposable
{
    private static readonly bool PackedEvent = RuntimeInformation.ProcessArchitecture == Architecture.X64;
    private readonly FileDescriptor _fd;

    private Epoll(FileDescriptor fd) => _fd = fd;

    /// <summary>Creates an epoll instance (close-on-exec).</summary>
    public static Epoll Create()
    {
        int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError("epoll_create1");
        }
        return new Epoll(new FileDescriptor(fd));
    }

    /// <summary>Registers <paramref name="fd"/> for <paramref name="events"/> with a token.</summary>
    public void Add(SafeHandle fd, EpollEvents events, ulong token) => Control(LibC.EPOLL_CTL_ADD, fd, events, token);

    /// <summary>Changes the events or token of a registered descriptor.</summary>
    public void Modify(SafeHandle fd, EpollEvents events, ulong token) => Control(LibC.EPOLL_CTL_MOD, fd, events, token);

    /// <summary>Removes a registration. Ignores descriptors that are not registered.</summary>
    public void Remove(SafeHandle fd)
    {
        if (fd.IsClosed)
        {
            return;
        }
        using var lease = new FdLease(fd);
        using var self = new FdLease(_fd);
        unsafe
        {
            // SAFETY: EPOLL_CTL_DEL ignores the event pointer (non-null for old kernels).
            LibC.epoll_event_aligned dummy = default;
            LibC.epoll_ctl(self.Fd, LibC.EPOLL_CTL_DEL, lease.Fd, &dummy);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1: forever) and fills
    /// <paramref name="events"/>. Returns the number of events; 0 on timeout or signal.
    /// </summary>
    public int Wait(Span<EpollEvent> events, int timeoutMilliseconds)
    {
        const int MaxBatch = 64;
        int max = Math.Min(events.Length, MaxBatch);
        using var self = new FdLease(_fd);
        int n;
        unsafe
        {
            if (PackedEvent)
            {
                // SAFETY: a stack array of max native x86-64 epoll_event (12-byte packed) entries.
                LibC.epoll_event_x64* native = stackalloc LibC.epoll_event_x64[max];
                n = LibC.epoll_wait(self.Fd, native, max, timeoutMilliseconds);
                for (int i = 0; i < n; i++)
                {
                    events[i] = new EpollEvent(native[i].events, native[i].data);
                }
            }
            else
            {
                // SAFETY: as above with the naturally aligned (16-byte) layout of other 64-bit ABIs.
                LibC.epoll_event_aligned* native = stackalloc LibC.epoll_event_aligned[max];
                n = LibC.epoll_wait(self.Fd, native, max, timeoutMilliseconds);
                for (int i = 0; i < n; i++)
                {
                    events[i] = new EpollEvent(native[i].events, native[i].data);
                }
            }
        }
        if (n < 0)
        {
            if (LibC.LastErrno == LibC.EINTR)
            {
                return 0;
            }
            ThrowHelper.ThrowIOError("epoll_wait");
        }
        return n;
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();

    private void Control(int op, SafeHandle fd, EpollEvents events, ulong token)
    {
        using var lease = new FdLease(fd);
        using var self = new FdLease(_fd);
        int rc;
        unsafe
        {
            // SAFETY: the event struct is a local in the layout this architecture's kernel expects.
            if (PackedEvent)
            {
                var ev = new LibC.epoll_event_x64 { events = (uint)events, data = token };
                rc = LibC.epoll_ctl(self.Fd, op, lease.Fd, &ev);
            }
            else
            {
                var ev = new LibC.epoll_event_aligned { events = (uint)events, data = token };
                rc = LibC.epoll_ctl(self.Fd, op, lease.Fd, &ev);
            }
        }
        if (rc < 0)
        {
            ThrowHelper.ThrowIOError("epoll_ctl");
        }
    }
}
