// PassthroughFs.Attributes.cs — GETATTR, SETATTR, READLINK, ACCESS, STATFS, and the file handles
// behind --inode-file-handles.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    /// <summary>MAX_HANDLE_SZ plus the struct file_handle header.</summary>
    private const int FileHandleBufferSize = 8 + 128;

    private readonly Lock _mountLock = new();

    public int GetAttr(ulong node, ulong? handle, out FuseAttrOut attr)
    {
        attr = default;
        int errno = PathOf(node, out _, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            errno = Stat(fd.Fd, out var st);
            if (errno == 0)
            {
                attr = ToAttrOut(st);
            }
            return errno;
        }
    }

    public int SetAttr(in RequestContext context, ulong node, in FuseSetAttrIn input, out FuseAttrOut attr)
    {
        attr = default;
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        int errno = PathOf(node, out var inode, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            FileLease open = default;
            if ((input.Valid & FuseSetAttrIn.Handle) != 0 && !_handles.TryAcquire(input.Fh, out open))
            {
                return Errno.EBADF; // FATTR_FH names a handle that is not open (never fall back to the path)
            }
            using (open)
            {
                errno = ApplySetAttr(fd.Fd, inode, open.File, input);
            }
            if (errno == 0)
            {
                errno = Stat(fd.Fd, out var st);
                attr = ToAttrOut(st);
            }
            return errno;
        }
    }

    public int ReadLink(ulong node, Span<byte> target, out int length)
    {
        length = 0;
        int errno = PathOf(node, out _, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            nint n = LibC.readlinkat(fd.Fd, ref EmptyPath, ref MemoryMarshal.GetReference(target), (nuint)target.Length);
            if (n < 0)
            {
                return Errno.Last;
            }
            length = (int)n;
            return 0;
        }
    }

    public int Access(in RequestContext context, ulong node, uint mask)
    {
        const int AT_EACCESS = 0x200;
        int errno = PathOf(node, out _, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        using (Credentials.As(context))
        {
            return LibC.faccessat(fd.Fd, ref EmptyPath, (int)mask, LibC.AT_EMPTY_PATH | AT_EACCESS) == 0 ? 0 : Errno.Last;
        }
    }

    public int StatFs(ulong node, out FuseStatFsOut statfs)
    {
        statfs = default;
        int errno = PathOf(node, out _, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            if (LibC.fstatfs(fd.Fd, out var st) != 0)
            {
                return Errno.Last;
            }
            statfs = new FuseStatFsOut
            {
                Blocks = st.Blocks,
                BlocksFree = st.BlocksFree,
                BlocksAvailable = st.BlocksAvailable,
                Files = st.Files,
                FilesFree = st.FilesFree,
                BlockSize = (uint)st.BlockSize,
                NameLength = (uint)st.NameLength,
                FragmentSize = (uint)st.FragmentSize,
            };
            return 0;
        }
    }

    private int ApplySetAttr(FileDescriptor pathFd, Inode inode, OpenFile? open, in FuseSetAttrIn input)
    {
        Span<byte> fdName = stackalloc byte[16];
        FdName(pathFd, fdName);
        if ((input.Valid & FuseSetAttrIn.Mode) != 0)
        {
            int rc = open is not null ? LibC.fchmod(open.Fd, input.NewMode) : LibC.fchmodat(_procSelfFd, ref fdName[0], input.NewMode, 0);
            if (rc != 0)
            {
                return Errno.Last;
            }
        }
        if ((input.Valid & (FuseSetAttrIn.Uid | FuseSetAttrIn.Gid)) != 0)
        {
            uint uid = (input.Valid & FuseSetAttrIn.Uid) != 0 ? input.NewUid : uint.MaxValue;
            uint gid = (input.Valid & FuseSetAttrIn.Gid) != 0 ? input.NewGid : uint.MaxValue;
            if (LibC.fchownat(pathFd, ref EmptyPath, uid, gid, LibC.AT_EMPTY_PATH | LibC.AT_SYMLINK_NOFOLLOW) != 0)
            {
                return Errno.Last;
            }
        }
        if ((input.Valid & FuseSetAttrIn.Size) != 0)
        {
            int errno = Truncate(pathFd, inode, open, input.NewSize);
            if (errno != 0)
            {
                return errno;
            }
        }
        if ((input.Valid & (FuseSetAttrIn.KillSuidGid | FuseSetAttrIn.Mode)) == FuseSetAttrIn.KillSuidGid)
        {
            // FATTR_KILL_SUIDGID (with HANDLE_KILLPRIV_V2): a truncate or chown by a caller without CAP_FSETID.
            int errno = KillSuidGid(pathFd, LibC.S_ISUID | LibC.S_ISGID);
            if (errno != 0)
            {
                return errno;
            }
        }
        if ((input.Valid & (FuseSetAttrIn.Atime | FuseSetAttrIn.Mtime)) != 0)
        {
            var times = new LibC.TimePair
            {
                AccessSeconds = (long)input.AtimeSeconds,
                AccessNanoseconds = TimeField(input.Valid, FuseSetAttrIn.Atime, FuseSetAttrIn.AtimeNow, input.AtimeNsec),
                ModifySeconds = (long)input.MtimeSeconds,
                ModifyNanoseconds = TimeField(input.Valid, FuseSetAttrIn.Mtime, FuseSetAttrIn.MtimeNow, input.MtimeNsec),
            };
            if (LibC.utimensat(_procSelfFd, ref fdName[0], ref times, 0) != 0)
            {
                return Errno.Last;
            }
        }
        return 0;
    }

    /// <summary>
    /// Clears what <paramref name="kill"/> names of S_ISUID and S_ISGID, as the host does for a
    /// caller without CAP_FSETID: on a write or truncate S_ISGID only if the group may execute (the
    /// kernel's should_remove_suid), when an access ACL is set always (posix_acl_update_mode, with
    /// <paramref name="sgidEvenIfNotGroupExec"/>). For the FUSE *KILL* flags: the guest kernel saw
    /// that its caller lacks CAP_FSETID, and we act with it.
    /// </summary>
    private int KillSuidGid(FileDescriptor fd, uint kill, bool sgidEvenIfNotGroupExec = false)
    {
        if (LibC.statx(fd, ref EmptyPath, LibC.AT_EMPTY_PATH, LibC.STATX_TYPE | LibC.STATX_MODE, out var st) != 0)
        {
            return Errno.Last;
        }
        uint mode = st.Mode;
        if ((mode & LibC.S_IXGRP) == 0 && !sgidEvenIfNotGroupExec)
        {
            kill &= ~LibC.S_ISGID;
        }
        uint type = mode & LibC.S_IFMT;
        if ((mode & kill) == 0 || !(type == LibC.S_IFREG || (type == LibC.S_IFDIR && sgidEvenIfNotGroupExec)))
        {
            return 0;
        }
        Span<byte> fdName = stackalloc byte[16];
        FdName(fd, fdName);
        return LibC.fchmodat(_procSelfFd, ref fdName[0], mode & 0xfff & ~kill, 0) == 0 ? 0 : Errno.Last;
    }

    private static long TimeField(uint valid, uint set, uint now, uint nanoseconds) =>
        (valid & set) == 0 ? LibC.UTIME_OMIT : (valid & now) != 0 ? LibC.UTIME_NOW : nanoseconds;

    private int Truncate(FileDescriptor pathFd, Inode inode, OpenFile? open, ulong size)
    {
        if (size > long.MaxValue)
        {
            return Errno.EINVAL;
        }
        if (open is not null)
        {
            return LibC.ftruncate(open.Fd, (long)size) == 0 ? 0 : Errno.Last;
        }
        if (!inode.IsRegular)
        {
            return inode.IsDirectory ? Errno.EISDIR : Errno.EINVAL;
        }
        int errno = Reopen(pathFd, LibC.O_WRONLY, out var file);
        if (errno != 0)
        {
            return errno;
        }
        using (file)
        {
            return LibC.ftruncate(file, (long)size) == 0 ? 0 : Errno.Last;
        }
    }

    /// <summary>
    /// name_to_handle_at of <paramref name="path"/> under <paramref name="dirFd"/> (AT_EMPTY_PATH:
    /// the fd itself; a name is not followed if it is a symlink): struct file_handle into
    /// <paramref name="buffer"/> (FileHandleBufferSize bytes). Returns 0 or the errno (the file
    /// system has no handles).
    /// </summary>
    private static int EncodeHandle(FileDescriptor dirFd, ref byte path, int flags, Span<byte> buffer, out int length, out int mountId)
    {
        length = 0;
        BitConverter.TryWriteBytes(buffer, 128); // handle_bytes: room for MAX_HANDLE_SZ
        if (LibC.name_to_handle_at(dirFd, ref path, ref buffer[0], out mountId, flags) != 0)
        {
            return Errno.Last;
        }
        length = 8 + BitConverter.ToInt32(buffer);
        return 0;
    }

    /// <summary>A FileHandle of <paramref name="encoded"/> with a descriptor on its mount; null handle (and the errno) if there is none yet.</summary>
    private int TryMakeHandle(FileDescriptor fd, uint type, ReadOnlySpan<byte> encoded, int mountId, out FileHandle? handle)
    {
        handle = null;
        FileDescriptor mountFd;
        lock (_mountLock)
        {
            if (!_mountFds.TryGetValue(mountId, out mountFd!))
            {
                // open_by_handle_at needs some real (not O_PATH) fd on the mount: a read-only
                // reopen of the first directory or regular file seen there (opening either has no
                // side effects). A mount first met through a special file waits for another.
                if (type is not (LibC.S_IFDIR or LibC.S_IFREG))
                {
                    return Errno.EOPNOTSUPP;
                }
                int errno = Reopen(fd, LibC.O_RDONLY | LibC.O_NONBLOCK, out mountFd);
                if (errno != 0)
                {
                    return errno;
                }
                _mountFds.Add(mountId, mountFd);
            }
        }
        handle = new FileHandle(encoded.ToArray(), mountFd);
        return 0;
    }
}
