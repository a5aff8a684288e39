// UnixSocket.cs — a blocking AF_UNIX stream (or seqpacket) socket that carries file descriptors.
// Received fds are wrapped in FileDescriptor objects at once (MSG_CMSG_CLOEXEC set); a truncated
// control message (MSG_CTRUNC: more fds than MaxFdsPerMessage) hands out none of them, and is
// reported to the caller, which may refuse the message and keep reading the stream.
using System.Runtime.InteropServices;
using System.Text;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>A Unix-domain socket with SCM_RIGHTS support.</summary>
public sealed class UnixSocket : IDisposable
{
    /// <summary>Most descriptors accepted with one message (SET_MEM_TABLE sends at most 8).</summary>
    public const int MaxFdsPerMessage = 32;

    private readonly FileDescriptor _fd;

    private UnixSocket(FileDescriptor fd) => _fd = fd;

    /// <summary>The owned descriptor.</summary>
    public FileDescriptor Descriptor => _fd;

    /// <summary>Wraps an existing socket descriptor (for example one inherited with --fd).</summary>
    public static UnixSocket FromDescriptor(FileDescriptor fd) => new(fd);

    /// <summary>Creates, binds and listens on a stream socket at <paramref name="path"/>.</summary>
    public static UnixSocket Listen(string path, int backlog = 16, bool seqPacket = false)
    {
        var socket = Create(seqPacket);
        try
        {
            using var lease = new FdLease(socket._fd);
            Span<byte> address = stackalloc byte[LibC.SockaddrUnSize];
            int addressLength = FillAddress(address, path);
            unsafe
            {
                // SAFETY: address is a stack buffer of sizeof(sockaddr_un); addressLength ≤ its size.
                fixed (byte* a = address)
                {
                    if (LibC.bind(lease.Fd, a, (uint)addressLength) < 0)
                    {
                        ThrowHelper.ThrowSocketError();
                    }
                }
            }
            if (LibC.listen(lease.Fd, backlog) < 0)
            {
                ThrowHelper.ThrowSocketError();
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects a stream socket to <paramref name="path"/>.</summary>
    public static UnixSocket Connect(string path, bool seqPacket = false)
    {
        var socket = Create(seqPacket);
        try
        {
            using var lease = new FdLease(socket._fd);
            Span<byte> address = stackalloc byte[LibC.SockaddrUnSize];
            int addressLength = FillAddress(address, path);
            int rc;
            unsafe
            {
                // SAFETY: as in Listen.
                fixed (byte* a = address)
                {
                    do
                    {
                        rc = LibC.connect(lease.Fd, a, (uint)addressLength);
                    }
                    while (rc < 0 && LibC.LastErrno == LibC.EINTR);
                }
            }
            if (rc < 0)
            {
                ThrowHelper.ThrowSocketError();
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Creates a connected pair of stream sockets (tests, back-end request channel).</summary>
    public static (UnixSocket First, UnixSocket Second) SocketPair(bool seqPacket = false)
    {
        Span<int> fds = stackalloc int[2];
        int type = (seqPacket ? LibC.SOCK_SEQPACKET : LibC.SOCK_STREAM) | LibC.SOCK_CLOEXEC;
        if (LibC.socketpair(LibC.AF_UNIX, type, 0, fds) < 0)
        {
            ThrowHelper.ThrowSocketError();
        }
        return (new UnixSocket(new FileDescriptor(fds[0])), new UnixSocket(new FileDescriptor(fds[1])));
    }

    /// <summary>
    /// Makes blocking receives (and sends) fail with an IOException after <paramref name="timeout"/>
    /// (SO_RCVTIMEO/SO_SNDTIMEO); zero means wait forever. Used by front ends that talk to back
    /// ends they do not trust to answer.
    /// </summary>
    public void SetTimeout(TimeSpan timeout)
    {
        using var lease = new FdLease(_fd);
        long micros = (long)Math.Max(0, timeout.TotalMicroseconds);
        Span<long> timeval = [micros / 1_000_000, micros % 1_000_000];
        unsafe
        {
            // SAFETY: timeval is a stack struct timeval { long tv_sec; long tv_usec; } of 16 bytes.
            fixed (long* t = timeval)
            {
                if (LibC.setsockopt(lease.Fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, t, 16) < 0
                    || LibC.setsockopt(lease.Fd, LibC.SOL_SOCKET, LibC.SO_SNDTIMEO, t, 16) < 0)
                {
                    ThrowHelper.ThrowSocketError();
                }
            }
        }
    }

    /// <summary>True if <paramref name="path"/> names a socket file (lstat S_ISSOCK).</summary>
    public static bool IsSocketFile(string path)
    {
        Span<byte> stat = stackalloc byte[256];
        unsafe
        {
            // SAFETY: struct stat is at most 144 bytes on the supported ABIs; the buffer is 256.
            fixed (byte* p = stat)
            {
                if (LibC.lstat(path, p) < 0)
                {
                    return false;
                }
            }
        }
        uint mode = BitConverter.ToUInt32(stat.Slice(LibC.StatModeOffset, 4));
        return (mode & LibC.S_IFMT) == LibC.S_IFSOCK;
    }

    /// <summary>True if the descriptor is a listening socket (checks an inherited --fd).</summary>
    public bool IsListening => GetIntOption(LibC.SO_ACCEPTCONN) is > 0;

    /// <summary>True if the descriptor is a stream socket (SO_TYPE; checks an inherited --fd).</summary>
    public bool IsStream => GetIntOption(LibC.SO_TYPE) == LibC.SOCK_STREAM;

    /// <summary>An int-valued SOL_SOCKET option, or null if getsockopt fails (not a socket).</summary>
    private int? GetIntOption(int name)
    {
        using var lease = new FdLease(_fd);
        int value = 0;
        uint length = sizeof(int);
        unsafe
        {
            // SAFETY: value and length are locals of the sizes passed.
            if (LibC.getsockopt(lease.Fd, LibC.SOL_SOCKET, name, &value, &length) < 0)
            {
                return null;
            }
        }
        return value;
    }

    /// <summary>
    /// Waits for a connection. Returns null when the listener was shut down (see
    /// <see cref="Shutdown"/>), which is how the daemon stops accepting.
    /// </summary>
    public UnixSocket? Accept()
    {
        using var lease = new FdLease(_fd);
        while (true)
        {
            int fd;
            unsafe
            {
                // SAFETY: null address and length pointers are allowed: the peer address is not wanted.
                fd = LibC.accept4(lease.Fd, null, null, LibC.SOCK_CLOEXEC);
            }
            if (fd >= 0)
            {
                return new UnixSocket(new FileDescriptor(fd));
            }
            int errno = LibC.LastErrno;
            if (errno == LibC.EINTR || errno == 103 /* ECONNABORTED */)
            {
                continue;
            }
            if (errno == LibC.EINVAL || errno == LibC.EBADF)
            {
                return null;
            }
            ThrowHelper.ThrowIOError("accept4", errno);
        }
    }

    /// <summary>
    /// Sends all of <paramref name="data"/>; <paramref name="fds"/> ride on the first byte
    /// (vhost-user rst: fds accompany the header). The caller keeps ownership of the fds: the
    /// kernel duplicates them into the receiver.
    /// </summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<FileDescriptor> fds = default)
    {
        if (fds.Length > MaxFdsPerMessage)
        {
            throw new ArgumentException($"at most {MaxFdsPerMessage} fds per message", nameof(fds));
        }
        SendUnchecked(data, fds);
    }

    /// <summary>
    /// <see cref="Send"/> without the fd-count limit, so tests can make a receiver see MSG_CTRUNC
    /// (the kernel itself accepts up to SCM_MAX_FD = 253).
    /// </summary>
    internal void SendUnchecked(ReadOnlySpan<byte> data, ReadOnlySpan<FileDescriptor> fds)
    {
        using var lease = new FdLease(_fd);
        int sent = SendFirst(lease.Fd, data, fds);
        while (sent < data.Length)
        {
            sent += SendChunk(lease.Fd, data[sent..], 0, default);
        }
    }

    /// <summary>
    /// One recvmsg into <paramref name="buffer"/>. Received fds are appended to
    /// <paramref name="fds"/> (or closed when it is null). Returns the byte count; 0 means the
    /// peer closed the connection. Throws <see cref="IOException"/> if more fds came than
    /// <see cref="MaxFdsPerMessage"/> (MSG_CTRUNC); the overload with an out flag reports it instead.
    /// </summary>
    public int Receive(Span<byte> buffer, List<FileDescriptor>? fds)
    {
        int n = Receive(buffer, fds, out bool fdsTruncated);
        if (fdsTruncated)
        {
            throw new IOException($"recvmsg: control data truncated (more than {MaxFdsPerMessage} fds sent); the fds were closed");
        }
        return n;
    }

    /// <summary>
    /// As <see cref="Receive(Span{byte}, List{FileDescriptor})"/>, but too many fds (MSG_CTRUNC)
    /// set <paramref name="fdsTruncated"/> instead of throwing. None of those fds is handed out:
    /// the kernel closed the ones that did not fit and the ones that did are closed here. The
    /// bytes are unaffected — on a stream socket truncation only drops ancillary data — so the
    /// caller can go on reading the stream and refuse just the message.
    /// </summary>
    public int Receive(Span<byte> buffer, List<FileDescriptor>? fds, out bool fdsTruncated)
    {
        using var lease = new FdLease(_fd);
        int controlSize = LibC.CmsgSpace(sizeof(int) * MaxFdsPerMessage);
        Span<byte> control = stackalloc byte[controlSize];
        control.Clear();
        nint n;
        int flags;
        unsafe
        {
            // SAFETY: iov points at buffer and control at a stack buffer of controlSize bytes;
            // both outlive the call. The kernel writes at most iov_len / msg_controllen bytes.
            fixed (byte* b = buffer)
            fixed (byte* c = control)
            {
                var iov = new LibC.iovec { iov_base = b, iov_len = (nuint)buffer.Length };
                var msg = new LibC.msghdr
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = c,
                    msg_controllen = (nuint)controlSize,
                };
                do
                {
                    n = LibC.recvmsg(lease.Fd, &msg, LibC.MSG_CMSG_CLOEXEC);
                }
                while (n < 0 && LibC.LastErrno == LibC.EINTR);
                flags = msg.msg_flags;
                controlSize = (int)msg.msg_controllen;
            }
        }
        fdsTruncated = false;
        if (n < 0)
        {
            int errno = LibC.LastErrno;
            if (errno == LibC.ECONNRESET)
            {
                return 0;
            }
            ThrowHelper.ThrowIOError("recvmsg", errno);
        }
        // On MSG_CTRUNC some fds were lost: close the ones that arrived rather than hand out a
        // partial set.
        fdsTruncated = (flags & LibC.MSG_CTRUNC) != 0;
        CollectFds(control[..Math.Min(controlSize, control.Length)], fdsTruncated ? null : fds);
        return (int)n;
    }

    /// <summary>
    /// Shuts the socket down in both directions: a blocked Receive returns 0 and a blocked
    /// Accept returns null. Used to stop a connection or a listener from another thread.
    /// </summary>
    public void Shutdown()
    {
        if (_fd.IsClosed)
        {
            return;
        }
        using var lease = new FdLease(_fd);
        LibC.shutdown(lease.Fd, LibC.SHUT_RDWR);
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();

    private static UnixSocket Create(bool seqPacket)
    {
        int type = (seqPacket ? LibC.SOCK_SEQPACKET : LibC.SOCK_STREAM) | LibC.SOCK_CLOEXEC;
        int fd = LibC.socket(LibC.AF_UNIX, type, 0);
        if (fd < 0)
        {
            ThrowHelper.ThrowSocketError();
        }
        return new UnixSocket(new FileDescriptor(fd));
    }

    private static int FillAddress(Span<byte> address, string path)
    {
        address.Clear();
        BitConverter.TryWriteBytes(address, (ushort)LibC.AF_UNIX);
        int byteCount = Encoding.UTF8.GetByteCount(path);
        if (byteCount == 0 || byteCount >= LibC.SunPathMax)
        {
            throw new ArgumentException($"socket path must be 1 to {LibC.SunPathMax - 1} bytes: '{path}'", nameof(path));
        }
        Encoding.UTF8.GetBytes(path, address[LibC.SunPathOffset..]);
        return LibC.SunPathOffset + byteCount + 1;
    }

    private static int SendFirst(int socketFd, ReadOnlySpan<byte> data, ReadOnlySpan<FileDescriptor> fds)
    {
        if (fds.IsEmpty)
        {
            return SendChunk(socketFd, data, 0, default);
        }
        // Hold every passed fd alive while its number sits in the control message.
        Span<bool> added = stackalloc bool[fds.Length];
        Span<int> raw = stackalloc int[fds.Length];
        try
        {
            for (int i = 0; i < fds.Length; i++)
            {
                bool ok = false;
                fds[i].DangerousAddRef(ref ok);
                added[i] = ok;
                raw[i] = fds[i].RawValue;
            }
            return SendChunk(socketFd, data, fds.Length, raw);
        }
        finally
        {
            for (int i = 0; i < fds.Length; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }

    private static int SendChunk(int socketFd, ReadOnlySpan<byte> data, int fdCount, ReadOnlySpan<int> fds)
    {
        int controlSize = fdCount == 0 ? 0 : LibC.CmsgSpace(sizeof(int) * fdCount);
        Span<byte> control = stackalloc byte[Math.Max(controlSize, 1)];
        control.Clear();
        if (fdCount > 0)
        {
            var header = new LibC.cmsghdr
            {
                cmsg_len = (nuint)LibC.CmsgLen(sizeof(int) * fdCount),
                cmsg_level = LibC.SOL_SOCKET,
                cmsg_type = LibC.SCM_RIGHTS,
            };
            MemoryMarshal.Write(control, in header);
            MemoryMarshal.AsBytes(fds).CopyTo(control[LibC.CmsgHeaderSize..]);
        }
        nint n;
        unsafe
        {
            // SAFETY: data and control are pinned for the call; lengths match the buffers.
            fixed (byte* d = data)
            fixed (byte* c = control)
            {
                var iov = new LibC.iovec { iov_base = d, iov_len = (nuint)data.Length };
                var msg = new LibC.msghdr
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = fdCount == 0 ? null : c,
                    msg_controllen = (nuint)controlSize,
                };
                do
                {
                    n = LibC.sendmsg(socketFd, &msg, LibC.MSG_NOSIGNAL);
                }
                while (n < 0 && LibC.LastErrno == LibC.EINTR);
            }
        }
        if (n < 0)
        {
            ThrowHelper.ThrowIOError("sendmsg");
        }
        return (int)n;
    }

    private static int CollectFds(ReadOnlySpan<byte> control, List<FileDescriptor>? fds)
    {
        int count = 0;
        int offset = 0;
        int headerSize = LibC.CmsgHeaderSize;
        while (offset + headerSize <= control.Length)
        {
            var header = MemoryMarshal.Read<LibC.cmsghdr>(control[offset..]);
            int length = (int)header.cmsg_len;
            if (length < headerSize || offset + length > control.Length)
            {
                break;
            }
            if (header.cmsg_level == LibC.SOL_SOCKET && header.cmsg_type == LibC.SCM_RIGHTS)
            {
                var data = MemoryMarshal.Cast<byte, int>(control.Slice(offset + headerSize, length - headerSize));
                foreach (int fd in data)
                {
                    var owned = new FileDescriptor(fd);
                    count++;
                    if (fds is null)
                    {
                        owned.Dispose();
                    }
                    else
                    {
                        fds.Add(owned);
                    }
                }
            }
            offset += LibC.CmsgAlign(length);
        }
        return count;
    }
}
