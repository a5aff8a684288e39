// BlockFile.cs — an image file or block device opened for a block back end: its size (st_size,
// or BLKGETSIZE64 for a block device), and the data-path calls — vectored read and write at an
// offset, fallocate, fdatasync. Data-path calls return a byte count or a negative errno instead
// of throwing: a failed I/O becomes a virtio status for the guest, never an exception (design
// README 1.6), and these run on I/O threads where an exception would have nowhere to go.
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>An open image file or block device.</summary>
public sealed class BlockFile : IDisposable
{
    /// <summary>fallocate mode: deallocate the range, keep the file size (reads return zeroes).</summary>
    public const int PunchHole = LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE;

    /// <summary>fallocate mode: zero the range, keeping it allocated and the file size unchanged.</summary>
    public const int ZeroRange = LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE;

    /// <summary>pwritev2 / io_uring write flag: the data is durable when the write completes.</summary>
    public const int WriteDataSync = LibC.RWF_DSYNC;

    /// <summary>errno: operation not supported (fallocate modes a file system lacks).</summary>
    public const int ErrorNotSupported = LibC.EOPNOTSUPP;

    /// <summary>errno: invalid argument (e.g. an O_DIRECT transfer that is not aligned).</summary>
    public const int ErrorInvalid = LibC.EINVAL;

    private readonly FileDescriptor _fd;

    private BlockFile(FileDescriptor fd, string path, bool isBlockDevice, bool readOnly, bool direct)
    {
        _fd = fd;
        Path = path;
        IsBlockDevice = isBlockDevice;
        IsReadOnly = readOnly;
        IsDirect = direct;
    }

    /// <summary>The path it was opened with.</summary>
    public string Path { get; }

    /// <summary>True for a block device, false for a regular file.</summary>
    public bool IsBlockDevice { get; }

    /// <summary>Opened read-only.</summary>
    public bool IsReadOnly { get; }

    /// <summary>Opened with O_DIRECT.</summary>
    public bool IsDirect { get; }

    /// <summary>The descriptor (for io_uring registration).</summary>
    public FileDescriptor Descriptor => _fd;

    /// <summary>
    /// Opens a regular file or block device. Throws <see cref="IOException"/> if it cannot be
    /// opened or is neither.
    /// </summary>
    public static BlockFile Open(string path, bool readOnly, bool direct)
    {
        int flags = (readOnly ? LibC.O_RDONLY : LibC.O_RDWR) | LibC.O_CLOEXEC | (direct ? LibC.O_DIRECT : 0);
        int raw = LibC.open(path, flags, 0);
        if (raw < 0)
        {
            ThrowHelper.ThrowIOError($"open {path}");
        }
        var fd = new FileDescriptor(raw);
        try
        {
            uint type = FileType(fd);
            if (type != LibC.S_IFREG && type != LibC.S_IFBLK)
            {
                throw new IOException($"{path} is neither a regular file nor a block device");
            }
            return new BlockFile(fd, path, type == LibC.S_IFBLK, readOnly, direct);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Current size in bytes (re-read on every call: the file may have grown).</summary>
    public long GetSize()
    {
        if (!IsBlockDevice)
        {
            return _fd.GetFileSize();
        }
        ulong size = 0;
        using var lease = new FdLease(_fd);
        int rc;
        unsafe
        {
            // SAFETY: BLKGETSIZE64 writes one u64 into the local.
            rc = LibC.ioctl(lease.Fd, LibC.BLKGETSIZE64, &size);
        }
        if (rc < 0)
        {
            ThrowHelper.ThrowIOError($"ioctl(BLKGETSIZE64) {Path}");
        }
        return (long)size;
    }

    /// <summary>The logical sector size of a block device (512 for a regular file, or if the device does not say).</summary>
    public int GetLogicalSectorSize() => SectorSize(LibC.BLKSSZGET);

    /// <summary>The physical sector size of a block device (512 for a regular file, or if the device does not say).</summary>
    public int GetPhysicalSectorSize() => SectorSize(LibC.BLKPBSZGET);

    private int SectorSize(ulong request)
    {
        if (!IsBlockDevice)
        {
            return 512;
        }
        int size = 0;
        using var lease = new FdLease(_fd);
        int rc;
        unsafe
        {
            // SAFETY: BLKSSZGET and BLKPBSZGET write one int into the local.
            rc = LibC.ioctl(lease.Fd, request, &size);
        }
        return rc < 0 || size < 512 ? 512 : size;
    }

    /// <summary>preadv2 into <paramref name="iov"/> at <paramref name="offset"/>: bytes read, or -errno.</summary>
    public long ReadV(IoVectorArray iov, long offset) => Transfer(iov, offset, 0, write: false);

    /// <summary>pwritev2 from <paramref name="iov"/> at <paramref name="offset"/> with RWF_* <paramref name="flags"/>: bytes written, or -errno.</summary>
    public long WriteV(IoVectorArray iov, long offset, int flags) => Transfer(iov, offset, flags, write: true);

    /// <summary>
    /// Allocate mode meaning "discard the range of a block device" (BLKDISCARD): no fallocate mode
    /// does that — PUNCH_HOLE on a block device is a write-zeroes with unmap, which devices without
    /// write-zeroes (dm-thin, many SSDs) refuse.
    /// </summary>
    public const int DiscardRange = -2;

    /// <summary>fallocate(<paramref name="mode"/>), or BLKDISCARD for <see cref="DiscardRange"/>: 0, or -errno.</summary>
    public int Allocate(int mode, long offset, long length)
    {
        using var lease = new FdLease(_fd);
        if (mode == DiscardRange)
        {
            return Discard(lease.Fd, offset, length);
        }
        int rc;
        do
        {
            rc = LibC.fallocate(lease.Fd, mode, offset, length);
        }
        while (rc < 0 && LibC.LastErrno == LibC.EINTR);
        return rc < 0 ? -LibC.LastErrno : 0;
    }

    private static unsafe int Discard(int fd, long offset, long length)
    {
        ulong* range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        // SAFETY: BLKDISCARD reads two u64 (start, length) from the stack array.
        int rc = LibC.ioctl(fd, LibC.BLKDISCARD, range);
        return rc < 0 ? -LibC.LastErrno : 0;
    }

    /// <summary>fdatasync: 0, or -errno.</summary>
    public int DataSync()
    {
        using var lease = new FdLease(_fd);
        int rc;
        do
        {
            rc = LibC.fdatasync(lease.Fd);
        }
        while (rc < 0 && LibC.LastErrno == LibC.EINTR);
        return rc < 0 ? -LibC.LastErrno : 0;
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();

    private long Transfer(IoVectorArray iov, long offset, int flags, bool write)
    {
        using var lease = new FdLease(_fd);
        nint n;
        unsafe
        {
            // SAFETY: the array's entries point into mappings it keeps leased (IoVectorArray).
            var entries = (LibC.iovec*)iov.Address;
            do
            {
                n = write
                    ? LibC.pwritev2(lease.Fd, entries, iov.Count, offset, flags)
                    : LibC.preadv2(lease.Fd, entries, iov.Count, offset, flags);
            }
            while (n < 0 && LibC.LastErrno == LibC.EINTR);
        }
        return n < 0 ? -LibC.LastErrno : n;
    }

    private static uint FileType(FileDescriptor fd)
    {
        Span<byte> stat = stackalloc byte[256];
        using (var lease = new FdLease(fd))
        {
            unsafe
            {
                // SAFETY: struct stat is 144 bytes on x86-64 and 128 on arm64; the buffer is 256.
                fixed (byte* p = stat)
                {
                    if (LibC.fstat(lease.Fd, p) < 0)
                    {
                        ThrowHelper.ThrowIOError("fstat");
                    }
                }
            }
        }
        return BitConverter.ToUInt32(stat.Slice(LibC.StatModeOffset, 4)) & LibC.S_IFMT;
    }
}
