// FileDescriptor.cs — ownership of one Unix file descriptor (design README 1.3, principle 3).
// Every fd the framework opens or receives is wrapped here at once; ReleaseHandle closes it.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>An owned (or borrowed) Unix file descriptor.</summary>
public sealed class FileDescriptor : SafeHandle
{
    /// <summary>Wraps a raw descriptor.</summary>
    /// <param name="fd">The descriptor number.</param>
    /// <param name="ownsHandle">True to close it when this object is disposed.</param>
    public FileDescriptor(int fd, bool ownsHandle = true)
        : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>
    /// The raw number. Only valid while this object is alive and not disposed; prefer
    /// <see cref="SafeHandle.DangerousAddRef"/> around any call that uses it.
    /// </summary>
    public int RawValue => (int)handle.ToInt64();

    /// <summary>Returns a new descriptor for the same open file (dup with close-on-exec).</summary>
    public FileDescriptor Duplicate()
    {
        using var lease = new FdLease(this);
        int fd = LibC.fcntl(lease.Fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError("fcntl(F_DUPFD_CLOEXEC)");
        }
        return new FileDescriptor(fd);
    }

    /// <summary>Sets or clears O_NONBLOCK on the open file description.</summary>
    public void SetNonBlocking(bool nonBlocking)
    {
        using var lease = new FdLease(this);
        int flags = LibC.fcntl(lease.Fd, LibC.F_GETFL, 0);
        if (flags < 0)
        {
            ThrowHelper.ThrowIOError("fcntl(F_GETFL)");
        }
        int wanted = nonBlocking ? flags | LibC.O_NONBLOCK : flags & ~LibC.O_NONBLOCK;
        if (wanted != flags && LibC.fcntl(lease.Fd, LibC.F_SETFL, wanted) < 0)
        {
            ThrowHelper.ThrowIOError("fcntl(F_SETFL)");
        }
    }

    /// <summary>
    /// One read(2) into <paramref name="buffer"/>. Returns false if the descriptor is
    /// non-blocking and has nothing to read (EAGAIN); <paramref name="bytesRead"/> 0 means end of
    /// file. Other errors throw <see cref="IOException"/>.
    /// </summary>
    public bool TryRead(Span<byte> buffer, out int bytesRead)
    {
        using var lease = new FdLease(this);
        nint n;
        unsafe
        {
            // SAFETY: buffer is pinned for the call and read(2) writes at most its length.
            fixed (byte* p = buffer)
            {
                do
                {
                    n = LibC.read(lease.Fd, p, (nuint)buffer.Length);
                }
                while (n < 0 && LibC.LastErrno == LibC.EINTR);
            }
        }
        if (n < 0)
        {
            int errno = LibC.LastErrno;
            if (errno == LibC.EAGAIN)
            {
                bytesRead = 0;
                return false;
            }
            ThrowHelper.ThrowIOError("read", errno);
        }
        bytesRead = (int)n;
        return true;
    }

    /// <summary>Opens <paramref name="path"/> read-only (close-on-exec, optionally non-blocking).</summary>
    public static FileDescriptor OpenRead(string path, bool nonBlocking = false)
    {
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC | (nonBlocking ? LibC.O_NONBLOCK : 0), 0);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError($"open {path}");
        }
        return new FileDescriptor(fd);
    }

    /// <summary>Moves the file offset back to the start (lseek SEEK_SET 0); false if the file cannot seek.</summary>
    public bool Rewind()
    {
        using var lease = new FdLease(this);
        return LibC.lseek(lease.Fd, 0, 0) == 0;
    }

    /// <summary>Size of the file behind the descriptor (fstat st_size).</summary>
    public long GetFileSize()
    {
        Span<byte> stat = stackalloc byte[256];
        Stat(stat);
        // st_size is at offset 48 on both x86-64 and arm64 (generic) struct stat.
        return BitConverter.ToInt64(stat[48..56]);
    }

    /// <summary>The kind of file behind the descriptor (fstat st_mode).</summary>
    public FileKind GetKind()
    {
        Span<byte> stat = stackalloc byte[256];
        Stat(stat);
        return (BitConverter.ToUInt32(stat.Slice(LibC.StatModeOffset, 4)) & LibC.S_IFMT) switch
        {
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x4000 => FileKind.Directory,
            0x6000 => FileKind.BlockDevice,
            0x8000 => FileKind.Regular,
            0xA000 => FileKind.SymbolicLink,
            LibC.S_IFSOCK => FileKind.Socket,
            _ => FileKind.Anonymous,
        };
    }

    /// <summary>True if the open file description allows writes (O_WRONLY or O_RDWR; fcntl F_GETFL).</summary>
    public bool IsOpenForWriting()
    {
        using var lease = new FdLease(this);
        int flags = LibC.fcntl(lease.Fd, LibC.F_GETFL, 0);
        if (flags < 0)
        {
            ThrowHelper.ThrowIOError("fcntl(F_GETFL)");
        }
        return (flags & 3 /* O_ACCMODE */) is 1 or 2;
    }

    private void Stat(Span<byte> stat)
    {
        using var lease = new FdLease(this);
        unsafe
        {
            // SAFETY: struct stat is 144 bytes on x86-64 and 128 on arm64; callers pass 256.
            fixed (byte* p = stat)
            {
                if (LibC.fstat(lease.Fd, p) < 0)
                {
                    ThrowHelper.ThrowIOError("fstat");
                }
            }
        }
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.close(RawValue) == 0;
}
