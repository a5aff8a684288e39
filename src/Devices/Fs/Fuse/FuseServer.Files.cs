// FuseServer.Files.cs — requests on open files: OPEN, OPENDIR, CREATE, TMPFILE, READ, WRITE,
// RELEASE, RELEASEDIR, FLUSH, FSYNC, FSYNCDIR, FALLOCATE, LSEEK, COPY_FILE_RANGE, SYNCFS, IOCTL
// (locks: FuseServer.Locks.cs). READ and WRITE data go straight between the file and guest memory.
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs.Fuse;

internal sealed partial class FuseServer
{
    private uint Open(ref Request q, ref ChainReader r, ref ChainWriter w, bool directory)
    {
        if (!r.TryRead(out FuseOpenIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = directory ? _fs.OpenDir(q.Context, q.Node, input.Flags, out var open) : _fs.Open(q.Context, q.Node, input.Flags, out open);
        return errno == 0 ? Reply(ref w, q, open) : Error(ref w, q, errno);
    }

    private uint Create(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseCreateIn input) || !TryReadName(ref q, ref r, 16, out var name, out int errno))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        errno = _fs.Create(q.Context, q.Node, name, input, out var entry, out var open);
        return errno == 0 ? ReplyEntryOpen(ref w, q, entry, open) : Error(ref w, q, errno);
    }

    private uint TmpFile(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseCreateIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = _fs.TmpFile(q.Context, q.Node, input, out var entry, out var open);
        return errno == 0 ? ReplyEntryOpen(ref w, q, entry, open) : Error(ref w, q, errno);
    }

    private static uint ReplyEntryOpen(ref ChainWriter w, in Request q, in FuseEntryOut entry, in FuseOpenOut open)
    {
        var payload = new EntryOpen { Entry = entry, Open = open };
        return Reply(ref w, q, payload);
    }

    private uint Read(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseReadIn input) || input.Offset > long.MaxValue)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        if (w.Remaining < FuseOutHeader.Size)
        {
            return 0;
        }
        // The data goes straight into the guest buffers behind the header (one preadv), then the
        // header is filled in.
        uint size = Math.Min(Math.Min(input.Size, MaxTransfer), w.Remaining - FuseOutHeader.Size);
        var iov = Vectors;
        int errno;
        uint read = 0;
        try
        {
            errno = AppendSegments(iov, q, writable: true, FuseOutHeader.Size, size)
                ? _fs.Read(q.Node, input.Handle, (long)input.Offset, iov, out read)
                : Errno.EFAULT;
        }
        finally
        {
            iov.Clear();
        }
        if (errno != 0)
        {
            return Error(ref w, q, errno);
        }
        var header = new FuseOutHeader { Length = FuseOutHeader.Size + read, Unique = q.Header.Unique };
        w.TryWrite(header);
        return header.Length;
    }

    private uint Write(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseWriteIn input) || input.Offset > long.MaxValue || input.Size > MaxTransfer || r.Remaining < input.Size)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        var iov = Vectors;
        int errno;
        uint written = 0;
        try
        {
            errno = AppendSegments(iov, q, writable: false, q.Chain.ReadableLength - r.Remaining, input.Size)
                ? _fs.Write(q.Context, q.Node, input.Handle, (long)input.Offset, iov, input.WriteFlags, out written)
                : Errno.EFAULT;
        }
        finally
        {
            iov.Clear();
        }
        return errno == 0 ? Reply(ref w, q, new FuseWriteOut { Size = written }) : Error(ref w, q, errno);
    }

    private uint Release(ref Request q, ref ChainReader r, ref ChainWriter w, bool directory)
    {
        if (!r.TryRead(out FuseReleaseIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        return Status(ref w, q, directory ? _fs.ReleaseDir(q.Node, input.Handle) : _fs.Release(q.Node, input.Handle, input.Flags, input.ReleaseFlags, input.LockOwner));
    }

    private uint Flush(ref Request q, ref ChainReader r, ref ChainWriter w) =>
        r.TryRead(out FuseFlushIn input) ? Status(ref w, q, _fs.Flush(q.Node, input.Handle, input.LockOwner)) : Error(ref w, q, Errno.EINVAL);

    private uint Fsync(ref Request q, ref ChainReader r, ref ChainWriter w, bool directory)
    {
        if (!r.TryRead(out FuseFsyncIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        bool dataOnly = (input.FsyncFlags & FuseFsyncIn.DataSync) != 0;
        return Status(ref w, q, directory ? _fs.FsyncDir(q.Node, input.Handle, dataOnly) : _fs.Fsync(q.Node, input.Handle, dataOnly));
    }

    private uint Fallocate(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseFallocateIn input) || input.Offset > long.MaxValue || input.Length > long.MaxValue)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        return Status(ref w, q, _fs.Fallocate(q.Node, input.Handle, input.Mode, (long)input.Offset, (long)input.Length));
    }

    private uint Lseek(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseLseekIn input) || input.Offset > long.MaxValue)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = _fs.Lseek(q.Node, input.Handle, (long)input.Offset, input.Whence, out long result);
        return errno == 0 ? Reply(ref w, q, new FuseLseekOut { Offset = (ulong)result }) : Error(ref w, q, errno);
    }

    private uint CopyFileRange(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseCopyFileRangeIn input) || input.OffsetIn > long.MaxValue || input.OffsetOut > long.MaxValue)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = _fs.CopyFileRange(q.Node, input, out ulong copied);
        return errno == 0 ? Reply(ref w, q, new FuseWriteOut { Size = (uint)Math.Min(copied, uint.MaxValue) }) : Error(ref w, q, errno);
    }

    private uint SyncFs(ref Request q, ref ChainWriter w) => Status(ref w, q, _fs.SyncFs(q.Node));

    private uint Ioctl(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        const int MaxIoctlData = 4096;
        if (!r.TryRead(out FuseIoctlIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        if (input.InSize > MaxIoctlData || input.OutSize > MaxIoctlData || !TryReadRest(ref q, ref r, 32, out var inData) || inData.Length < input.InSize)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        Span<byte> outData = stackalloc byte[MaxIoctlData];
        int errno = _fs.Ioctl(q.Node, input, inData[..(int)input.InSize], outData[..(int)input.OutSize], out int result, out int outLength);
        if (errno != 0)
        {
            return Error(ref w, q, errno);
        }
        var header = new FuseIoctlOut { Result = result };
        var head = new FuseOutHeader { Length = (uint)(FuseOutHeader.Size + 16 + outLength), Unique = q.Header.Unique };
        if (w.Remaining < head.Length)
        {
            return Error(ref w, q, Errno.ERANGE);
        }
        w.TryWrite(head);
        w.TryWrite(header);
        w.Write(outData[..outLength]);
        return w.BytesWritten;
    }

    /// <summary>Per-thread iovec array for READ and WRITE data (leases the guest mappings it points into).</summary>
    private static IoVectorArray Vectors => t_vectors ??= new IoVectorArray();

    /// <summary>
    /// Adds <paramref name="length"/> bytes of the chain's readable or writable buffers, starting
    /// <paramref name="skip"/> bytes into them, to <paramref name="iov"/>.
    /// </summary>
    private static bool AppendSegments(IoVectorArray iov, in Request q, bool writable, uint skip, uint length)
    {
        foreach (var segment in q.Chain.Segments)
        {
            if (segment.Writable != writable || length == 0)
            {
                continue;
            }
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            uint take = Math.Min(segment.Length - skip, length);
            if (!q.Memory.TryAppendIoVectors(iov, new GuestAddress(segment.Address + skip), take))
            {
                return false;
            }
            length -= take;
            skip = 0;
        }
        return length == 0;
    }

    /// <summary>CREATE and TMPFILE reply: fuse_entry_out followed by fuse_open_out.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct EntryOpen
    {
        public FuseEntryOut Entry;
        public FuseOpenOut Open;
    }
}
