// PassthroughFs.Files.cs — open files: OPEN, CREATE, TMPFILE, READ, WRITE, RELEASE, FLUSH,
// FSYNC, FALLOCATE, LSEEK, COPY_FILE_RANGE, SYNCFS, IOCTL (locks: .Locks.cs). Only regular files
// are opened: device nodes and FIFOs are the guest's own business (its kernel never sends OPEN
// for them), so a guest-made device node can never open a host device.
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    public int Open(in RequestContext context, ulong node, uint flags, out FuseOpenOut open)
    {
        open = default;
        int errno = PathOf(node, out var inode, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            if (!inode.IsRegular)
            {
                return inode.IsDirectory ? Errno.EISDIR : Errno.EACCES;
            }
            int hostFlags = OpenFlags(flags, out errno);
            if (errno != 0)
            {
                return errno;
            }
            errno = Reopen(fd.Fd, hostFlags, out var file);
            if (errno != 0)
            {
                return errno;
            }
            open = new FuseOpenOut { Handle = _handles.Add(new OpenFile(file, inode)), OpenFlags = FileOpenFlags() };
            return 0;
        }
    }

    public int Create(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, in FuseCreateIn input, out FuseEntryOut entry, out FuseOpenOut open)
    {
        entry = default;
        open = default;
        if (_options.ReadOnly)
        {
            return Errno.EROFS; // whatever the access mode: CREATE makes a name (the guest sends it only for names it does not see)
        }
        int hostFlags = OpenFlags(input.Flags, out int errno);
        // O_EXCL is the guest's "must not exist" (open(2) O_CREAT|O_EXCL): EEXIST, never the old file.
        return errno != 0 ? errno : CreateOpen(context, parent, name, hostFlags | LibC.O_CREAT | ((int)input.Flags & LibC.O_EXCL), input, out entry, out open);
    }

    public int TmpFile(in RequestContext context, ulong parent, in FuseCreateIn input, out FuseEntryOut entry, out FuseOpenOut open)
    {
        entry = default;
        open = default;
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        int hostFlags = OpenFlags(input.Flags, out int errno);
        return errno != 0 ? errno : CreateOpen(context, parent, ".\0"u8, (hostFlags & ~LibC.O_CREAT) | LibC.O_TMPFILE, input, out entry, out open);
    }

    /// <summary>
    /// Opens <paramref name="name"/> under the parent as the caller (fsuid/fsgid, and umask with
    /// DONT_MASK), creating it, and registers the inode of the opened file itself: its entry
    /// comes from an fstat of that file (through an O_PATH reopen), not from a second look-up of
    /// the name, which another process may have replaced meanwhile — the entry and the handle are
    /// always the same file.
    /// </summary>
    private int CreateOpen(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, int flags, in FuseCreateIn input, out FuseEntryOut entry, out FuseOpenOut open)
    {
        entry = default;
        open = default;
        int errno = PathOf(parent, out var parentInode, out var parentFd);
        if (errno != 0)
        {
            return errno;
        }
        FileDescriptor file;
        using (parentFd)
        {
            errno = ThreadFs.Umask.Set(_dontMask, input.Umask, out var callerUmask);
            if (errno != 0)
            {
                return errno;
            }
            using (callerUmask)
            using (Credentials.As(context))
            {
                errno = OpenBeneath(parentFd.Fd, name, flags, input.Mode & 0xfff, out file);
            }
            if (errno != 0)
            {
                return errno;
            }
        }
        Inode inode = null!;
        errno = Reopen(file, LibC.O_PATH, out var pathFd);
        if (errno == 0)
        {
            errno = AddInode(pathFd, parentInode.Key.MountId, out entry, out inode);
        }
        if (errno != 0)
        {
            file.Dispose();
            return errno;
        }
        open = new FuseOpenOut { Handle = _handles.Add(new OpenFile(file, inode)), OpenFlags = FileOpenFlags() };
        return 0;
    }

    public int Read(ulong node, ulong handle, long offset, IoVectorArray target, out uint read)
    {
        read = 0;
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            long n = VectoredIo.ReadAt(file.Fd, target, offset); // a short read is the end of the file
            if (n < 0)
            {
                return (int)-n;
            }
            read = (uint)n;
            return 0;
        }
    }

    public int Write(in RequestContext context, ulong node, ulong handle, long offset, IoVectorArray source, uint writeFlags, out uint written)
    {
        written = 0;
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            if ((writeFlags & FuseWriteIn.KillSuidGid) != 0)
            {
                // A writer without CAP_FSETID (direct I/O: --cache never/metadata). We write with
                // CAP_FSETID, so the host keeps the bits: clear them as the kernel would, first.
                int errno = KillSuidGid(file.Fd, LibC.S_ISUID | LibC.S_ISGID);
                if (errno != 0)
                {
                    return errno;
                }
            }
            long n = VectoredIo.WriteAt(file.Fd, source, offset);
            if (n < 0)
            {
                return (int)-n;
            }
            written = (uint)n; // a short write (disk full part way) is reported as such, as write(2) does
            return 0;
        }
    }

    public int Release(ulong node, ulong handle, uint flags, uint releaseFlags, ulong lockOwner) => _handles.Remove(handle) ? 0 : Errno.EBADF;

    public int Flush(ulong node, ulong handle, ulong lockOwner)
    {
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            // close(dup(fd)) gives the host file system its close-time hook (NFS writes back on close).
            int copy = LibC.dup(file.Fd);
            return copy < 0 ? Errno.Last : LibC.close(copy) == 0 ? 0 : Errno.Last;
        }
    }

    public int Fsync(ulong node, ulong handle, bool dataOnly)
    {
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            return (dataOnly ? LibC.fdatasync(file.Fd) : LibC.fsync(file.Fd)) == 0 ? 0 : Errno.Last;
        }
    }

    public int Fallocate(ulong node, ulong handle, uint mode, long offset, long length)
    {
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            return LibC.fallocate(file.Fd, (int)mode, offset, length) == 0 ? 0 : Errno.Last;
        }
    }

    public int Lseek(ulong node, ulong handle, long offset, uint whence, out long result)
    {
        result = 0;
        if (whence is not (LibC.SEEK_DATA or LibC.SEEK_HOLE or LibC.SEEK_SET))
        {
            return Errno.EINVAL;
        }
        if (!_handles.TryAcquire(handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            result = LibC.lseek(file.Fd, offset, (int)whence);
            return result < 0 ? Errno.Last : 0;
        }
    }

    public int CopyFileRange(ulong nodeIn, in FuseCopyFileRangeIn input, out ulong copied)
    {
        copied = 0;
        if (input.Flags != 0)
        {
            return Errno.EINVAL; // copy_file_range(2) defines no flags yet (the kernel passes the caller's through)
        }
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if (!_handles.TryAcquire(input.HandleIn, out var source))
        {
            return Errno.EBADF;
        }
        using (source)
        {
            if (!_handles.TryAcquire(input.HandleOut, out var target))
            {
                return Errno.EBADF;
            }
            using (target)
            {
                long offsetIn = (long)input.OffsetIn;
                long offsetOut = (long)input.OffsetOut;
                nint n = LibC.copy_file_range(source.Fd, ref offsetIn, target.Fd, ref offsetOut, (nuint)Math.Min(input.Length, int.MaxValue), 0);
                if (n < 0)
                {
                    return Errno.Last;
                }
                copied = (ulong)n;
                return 0;
            }
        }
    }

    public int SyncFs(ulong node) => LibC.syncfs(_rootDir) == 0 ? 0 : Errno.Last;

    public int Ioctl(ulong node, in FuseIoctlIn input, ReadOnlySpan<byte> inData, Span<byte> outData, out int result, out int outLength)
    {
        result = 0;
        outLength = 0;
        if (!_handles.TryAcquire(input.Handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            return InodeFlagsIoctl(file.Fd, input, inData, outData, out outLength);
        }
    }

    /// <summary>Only the inode flags (chattr/lsattr): FS_IOC_GETFLAGS/SETFLAGS, native and 32-bit forms.</summary>
    private int InodeFlagsIoctl(FileDescriptor fd, in FuseIoctlIn input, ReadOnlySpan<byte> inData, Span<byte> outData, out int outLength)
    {
        const uint GetFlags = 0x6601, SetFlags = 0x6602;
        outLength = 0;
        uint command = input.Command & 0xffff;
        if ((input.Flags & 2 /* FUSE_IOCTL_UNRESTRICTED */) != 0 || command is not (GetFlags or SetFlags))
        {
            return Errno.ENOTTY;
        }
        int flags = 0;
        if (command == SetFlags)
        {
            if (_options.ReadOnly)
            {
                return Errno.EROFS;
            }
            if (inData.Length < 4)
            {
                return Errno.EINVAL;
            }
            flags = BitConverter.ToInt32(inData);
        }
        nuint request = command == GetFlags ? 0x80086601u : 0x40086602u;
        if (LibC.ioctl(fd, request, ref flags) != 0)
        {
            return Errno.Last;
        }
        if (command == GetFlags)
        {
            BitConverter.TryWriteBytes(outData, flags);
            outData[Math.Min(outData.Length, 4)..].Clear();
            outLength = outData.Length;
        }
        return 0;
    }

    /// <summary>Guest open flags → host flags: no creation bits, never follow, writeback needs read access.</summary>
    private int OpenFlags(uint guestFlags, out int errno)
    {
        errno = 0;
        // Keep access mode and the flags that change I/O semantics; drop creation bits, the
        // kernel-internal f_flags bits openat2 would refuse, and O_DIRECT unless --allow-direct-io
        // (as virtiofsd does); O_NOATIME only where it cannot fail with EPERM (root, or
        // --preserve-noatime), since without CAP_FOWNER it is refused on others' files.
        const int ODsync = 0x1000, OSync = 0x101000;
        int kept = LibC.O_ACCMODE | LibC.O_TRUNC | LibC.O_APPEND | LibC.O_NONBLOCK | ODsync | OSync
            | (_keepNoatime ? LibC.O_NOATIME : 0) | (_options.AllowDirectIo ? LibC.O_DIRECT : 0);
        int flags = (int)guestFlags & kept;
        if (_options.ReadOnly && ((flags & LibC.O_ACCMODE) != LibC.O_RDONLY || (flags & LibC.O_TRUNC) != 0))
        {
            errno = Errno.EROFS;
        }
        if (_writeback)
        {
            // The guest page cache may read around a partial write and appends itself (virtiofsd does the same).
            if ((flags & LibC.O_ACCMODE) == LibC.O_WRONLY)
            {
                flags = (flags & ~LibC.O_ACCMODE) | LibC.O_RDWR;
            }
            flags &= ~LibC.O_APPEND;
        }
        return flags;
    }

    private uint FileOpenFlags() => _options.Cache switch
    {
        CachePolicy.Never or CachePolicy.Metadata => FuseOpenOut.DirectIo,
        CachePolicy.Always => FuseOpenOut.KeepCache,
        _ => 0,
    };
}
