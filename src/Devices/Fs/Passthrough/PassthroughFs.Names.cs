// PassthroughFs.Names.cs — LOOKUP and FORGET, and the requests that create, remove and rename
// names: MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME(2). Every name is resolved relative
// to its parent's handle, one component, never following a symlink.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    public int Lookup(ulong parent, ReadOnlySpan<byte> name, out FuseEntryOut entry)
    {
        entry = default;
        int errno = PathOf(parent, out var parentInode, out var parentFd);
        if (errno != 0)
        {
            return errno;
        }
        using (parentFd)
        {
            return LookupIn(parentFd.Fd, parentInode, name, out entry, probeKnown: true);
        }
    }

    public void Forget(ulong node, ulong count) => _inodes.Forget(node, count);

    public int MkNod(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntryOut entry)
    {
        // fuse rdev is the kernel's new_encode_dev form; glibc's dev_t is makedev(major, minor).
        ulong major = (rdev & 0xfff00) >> 8;
        ulong minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
        ulong dev = ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff);
        return CreateName(context, parent, name, umask, out entry, (fd, n) => LibC.mknodat(fd, ref MemoryMarshal.GetReference(n), mode, dev));
    }

    public int MkDir(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntryOut entry) =>
        CreateName(context, parent, name, umask, out entry, (fd, n) => LibC.mkdirat(fd, ref MemoryMarshal.GetReference(n), mode));

    public int Symlink(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntryOut entry)
    {
        var targetCopy = target.ToArray();
        return CreateName(context, parent, name, 0, out entry, (fd, n) => LibC.symlinkat(ref targetCopy[0], fd, ref MemoryMarshal.GetReference(n)));
    }

    public int Link(ulong node, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        int errno = PathOf(node, out _, out var source);
        if (errno != 0)
        {
            return errno;
        }
        using (source)
        {
            errno = PathOf(newParent, out var parentInode, out var parentFd);
            if (errno != 0)
            {
                return errno;
            }
            using (parentFd)
            {
                // linkat through /proc/self/fd/N follows the magic link to the inode itself (no
                // CAP_DAC_READ_SEARCH needed, unlike AT_EMPTY_PATH), O_TMPFILE files included.
                Span<byte> fdName = stackalloc byte[16];
                FdName(source.Fd, fdName);
                if (LibC.linkat(_procSelfFd, ref fdName[0], parentFd.Fd, ref MemoryMarshal.GetReference(newName), LibC.AT_SYMLINK_FOLLOW) != 0)
                {
                    return Errno.Last;
                }
                return LookupIn(parentFd.Fd, parentInode, newName, out entry, probeKnown: true); // the linked inode is known
            }
        }
    }

    public int Unlink(ulong parent, ReadOnlySpan<byte> name) => RemoveName(parent, name, 0);

    public int RmDir(ulong parent, ReadOnlySpan<byte> name) => RemoveName(parent, name, LibC.AT_REMOVEDIR);

    public int Rename(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
    {
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if ((flags & ~(uint)(LibC.RENAME_NOREPLACE | LibC.RENAME_EXCHANGE | LibC.RENAME_WHITEOUT)) != 0)
        {
            return Errno.EINVAL;
        }
        int errno = PathOf(parent, out _, out var oldDir);
        if (errno != 0)
        {
            return errno;
        }
        using (oldDir)
        {
            errno = PathOf(newParent, out _, out var newDir);
            if (errno != 0)
            {
                return errno;
            }
            using (newDir)
            {
                int rc = LibC.renameat2(oldDir.Fd, ref MemoryMarshal.GetReference(name), newDir.Fd, ref MemoryMarshal.GetReference(newName), flags);
                return rc == 0 ? 0 : Errno.Last;
            }
        }
    }

    /// <summary>Opens <paramref name="name"/> under a parent handle as O_PATH without following anything.</summary>
    private int OpenBeneath(FileDescriptor parentFd, ReadOnlySpan<byte> name, int flags, uint mode, out FileDescriptor fd)
    {
        int raw = -1;
        if (_useOpenat2)
        {
            var how = new LibC.OpenHow
            {
                Flags = (ulong)(flags | LibC.O_NOFOLLOW | LibC.O_CLOEXEC),
                Mode = mode,
                Resolve = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS,
            };
            raw = LibC.openat2(parentFd, ref MemoryMarshal.GetReference(name), ref how);
            if (raw < 0 && Errno.Last == Errno.ENOSYS)
            {
                _useOpenat2 = false; // kernel before 5.6: the name is one checked component, O_NOFOLLOW is enough
            }
        }
        if (!_useOpenat2)
        {
            raw = LibC.openat(parentFd, ref MemoryMarshal.GetReference(name), flags | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, (int)mode);
        }
        if (raw < 0)
        {
            fd = null!;
            return Errno.Last;
        }
        fd = new FileDescriptor(raw);
        return 0;
    }

    /// <summary>
    /// Looks a name up under an open parent and counts the lookup. With <paramref name="probeKnown"/>
    /// (LOOKUP, LINK, READDIRPLUS of known entries) a name whose inode the guest already knows costs
    /// one statx, not openat2 + statx + close.
    /// </summary>
    private int LookupIn(FileDescriptor parentFd, Inode parent, ReadOnlySpan<byte> name, out FuseEntryOut entry, bool probeKnown = false)
    {
        entry = default;
        int errno = probeKnown ? TryLookupKnown(parentFd, parent, name, out entry) : NotKnown;
        if (errno != NotKnown)
        {
            return errno;
        }
        errno = OpenBeneath(parentFd, name, LibC.O_PATH, 0, out var fd);
        return errno != 0 ? errno : AddInode(fd, parent.Key.MountId, out entry);
    }

    /// <summary>TryLookupKnown's answer when the name must be opened to be looked up.</summary>
    private const int NotKnown = -1;

    /// <summary>
    /// statx of the name alone, not following a final symlink or triggering an automount: if it is an
    /// inode the guest already knows, that is the whole lookup. Nothing is opened, and the name is one
    /// checked component (FuseName), so nothing can lead outside the parent. ENOENT is final too;
    /// anything else (and an unknown inode) returns <see cref="NotKnown"/>, and the caller opens the
    /// name as before, which also answers the race of a name replaced in between.
    /// </summary>
    private int TryLookupKnown(FileDescriptor parentFd, Inode parent, ReadOnlySpan<byte> name, out FuseEntryOut entry)
    {
        entry = default;
        if (LibC.statx(parentFd, ref MemoryMarshal.GetReference(name), LibC.AT_SYMLINK_NOFOLLOW | LibC.AT_NO_AUTOMOUNT,
            LibC.STATX_BASIC_STATS | LibC.STATX_MNT_ID, out var st) != 0)
        {
            int errno = Errno.Last;
            return errno == Errno.ENOENT ? errno : NotKnown;
        }
        var key = new InodeKey(Device(st), st.Ino, st.MountId);
        var known = _inodes.Find(key);
        if (known is null)
        {
            return NotKnown;
        }
        // A handle inode that nothing holds open may have been deleted on the host and its inode
        // number given to this file: only the handle tells (an fd inode holds its number).
        Span<byte> identity = stackalloc byte[FileHandleBufferSize];
        int length = 0;
        if (known.Handle is not null && !IsHeldOpen(known)
            && EncodeHandle(parentFd, ref MemoryMarshal.GetReference(name), 0, identity, out length, out _) != 0)
        {
            return NotKnown;
        }
        if (!_inodes.TryAddLookup(key, identity[..length], out known))
        {
            return NotKnown; // stale (AddInode replaces it), or forgotten meanwhile
        }
        entry = Entry(known, st, parent.Key.MountId);
        return 0;
    }

    /// <summary>
    /// True if a descriptor on the inode is open now (the handle fd cache's): then the host inode
    /// has not been freed, and the inode number a statx just found is still this inode's.
    /// </summary>
    private static bool IsHeldOpen(Inode inode)
    {
        if (Volatile.Read(ref inode.CachedFd) is not { } fd || !TryBorrow(fd))
        {
            return false;
        }
        fd.DangerousRelease();
        return true;
    }

    /// <summary>Registers an O_PATH fd as a lookup (taking it) and fills the entry.</summary>
    private int AddInode(FileDescriptor fd, ulong parentMount, out FuseEntryOut entry) => AddInode(fd, parentMount, out entry, out _);

    private int AddInode(FileDescriptor fd, ulong parentMount, out FuseEntryOut entry, out Inode inode)
    {
        entry = default;
        inode = null!;
        int errno = Stat(fd, out var st);
        if (errno != 0)
        {
            fd.Dispose();
            return errno;
        }
        var key = new InodeKey(Device(st), st.Ino, st.MountId);
        // The handle is the file's identity: a known inode with this key but another handle is a
        // deleted file whose inode number the host gave to this one.
        Span<byte> identity = stackalloc byte[FileHandleBufferSize];
        int length = 0, mountId = 0;
        if (FileHandles != FileHandleMode.Never)
        {
            errno = EncodeHandle(fd, ref EmptyPath, LibC.AT_EMPTY_PATH, identity, out length, out mountId);
        }
        if (_inodes.TryAddLookup(key, identity[..length], out var known))
        {
            fd.Dispose(); // a name looked up again: nothing new to keep
            inode = known;
            entry = Entry(known, st, parentMount);
            return 0;
        }
        FileHandle? handle = null;
        // An inode without names (O_TMPFILE, or unlinked meanwhile) cannot be opened by handle: keep its fd.
        if (FileHandles != FileHandleMode.Never && st.Nlink > 0)
        {
            if (length > 0)
            {
                errno = TryMakeHandle(fd, st.Mode & LibC.S_IFMT, identity[..length], mountId, out handle);
            }
            if (handle is null && FileHandles == FileHandleMode.Mandatory)
            {
                fd.Dispose();
                return errno;
            }
        }
        uint type = st.Mode & LibC.S_IFMT;
        inode = _inodes.AddLookup(key, identity[..length], (id, generation) => new Inode(id, generation, key, type, handle is null ? fd : null, handle), out bool created);
        if (created && handle is null)
        {
            InodeFdCount++;
        }
        else if (!created || !_fdCache.TryAdd(inode, fd))
        {
            fd.Dispose(); // a new handle inode keeps the fd it was found with in the cache: the next request on it needs no open_by_handle_at
        }
        entry = Entry(inode, st, parentMount);
        return 0;
    }

    private FuseEntryOut Entry(Inode inode, in LibC.Statx st, ulong parentMount) => new()
    {
        NodeId = inode.NodeId,
        Generation = inode.Generation,
        EntryValid = _timeout,
        AttrValid = _timeout,
        Attr = ToAttr(st, parentMount),
    };

    /// <summary>Runs a creating call as the caller (fsuid/fsgid, and umask with DONT_MASK), then looks the new name up.</summary>
    private int CreateName(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, uint umask, out FuseEntryOut entry, Func<FileDescriptor, ReadOnlySpan<byte>, int> create)
    {
        entry = default;
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        int errno = PathOf(parent, out var parentInode, out var parentFd);
        if (errno != 0)
        {
            return errno;
        }
        using (parentFd)
        {
            errno = ThreadFs.Umask.Set(_dontMask, umask, out var callerUmask);
            if (errno != 0)
            {
                return errno;
            }
            using (callerUmask)
            using (Credentials.As(context))
            {
                if (create(parentFd.Fd, name) != 0)
                {
                    return Errno.Last;
                }
            }
            return LookupIn(parentFd.Fd, parentInode, name, out entry);
        }
    }

    private int RemoveName(ulong parent, ReadOnlySpan<byte> name, int flags)
    {
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        int errno = PathOf(parent, out _, out var parentFd);
        if (errno != 0)
        {
            return errno;
        }
        using (parentFd)
        {
            return LibC.unlinkat(parentFd.Fd, ref MemoryMarshal.GetReference(name), flags) == 0 ? 0 : Errno.Last;
        }
    }
}
