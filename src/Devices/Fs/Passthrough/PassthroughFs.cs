// PassthroughFs.cs — IFileSystem over a host directory (--shared-dir): state, INIT capabilities,
// and the helpers every operation uses. The guest can never reach outside the directory: every
// inode is an O_PATH handle (or a file handle) reached one component at a time with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), names are single components (FuseName), the
// daemon never follows a symlink, and files are reopened through /proc/self/fd only for regular
// files and directories (README "Security").
//
// Partial files: .Names.cs (lookup and the calls that create, remove and rename names),
// .Attributes.cs, .Files.cs (open files: I/O, sync), .Locks.cs, .Directories.cs, .Xattr.cs.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

/// <summary>A host directory served over FUSE.</summary>
internal sealed partial class PassthroughFs : IFileSystem, IDisposable
{
    private readonly FsOptions _options;
    private readonly bool _keepNoatime;
    private readonly InodeStore _inodes = new();
    private readonly HandleTable _handles = new();
    private readonly FileDescriptor _procSelfFd;
    private readonly FileDescriptor _rootDir;
    private readonly Dictionary<int, FileDescriptor> _mountFds = [];
    private readonly ulong _timeout;
    private readonly HandleFdCache _fdCache;
    private bool _writeback;
    private bool _dontMask;
    private bool _useOpenat2 = true;

    /// <summary>
    /// Opens the shared directory and /proc/self/fd; throws <see cref="IOException"/> if either
    /// fails. Inside a sandbox <paramref name="root"/> says where they are (the share is "/",
    /// /proc/self/fd an fd the sandbox opened, which this object then owns): opened there, every
    /// descriptor is on the sandbox's own mount.
    /// </summary>
    public PassthroughFs(FsOptions options, int handleFdCacheSize = HandleFdCache.DefaultSize, SandboxRoot? root = null)
    {
        _options = options;
        _keepNoatime = options.PreserveNoatime || LibC.geteuid() == 0;
        _fdCache = new HandleFdCache(handleFdCacheSize);
        _timeout = options.Cache switch
        {
            CachePolicy.Never => 0,
            CachePolicy.Auto => 1,
            _ => 86400,
        };
        _ = LibC.umask(0); // the guest kernel applies the caller's umask to every mode it sends (unless DONT_MASK: ThreadFs.Umask)
        string sharedDir = root?.SharedDir ?? options.SharedDir;
        _procSelfFd = root?.ProcSelfFd ?? OpenAbsolute("/proc/self/fd", LibC.O_PATH | LibC.O_DIRECTORY);
        _rootDir = OpenAbsolute(sharedDir, LibC.O_RDONLY | LibC.O_DIRECTORY);
        InstallRoot(OpenAbsolute(sharedDir, LibC.O_PATH | LibC.O_DIRECTORY));
        FileHandles = ProbeFileHandles(options.InodeFileHandles);
    }

    /// <summary>The --inode-file-handles mode in effect (prefer becomes never where handles cannot be opened).</summary>
    public FileHandleMode FileHandles { get; }

    /// <summary>Inodes held (root included).</summary>
    public int InodeCount => _inodes.Count;

    /// <summary>Open handles.</summary>
    public int HandleCount => _handles.Count;

    /// <summary>Inodes held as fds (not file handles): what --inode-file-handles saves.</summary>
    public int InodeFdCount { get; private set; }

    /// <summary>Descriptors kept open for recently used handle inodes (at most the cache size).</summary>
    public int CachedFdCount => _fdCache.Count;

    public FuseInitFlags Init(FuseInitFlags kernelFlags)
    {
        var wanted = FuseInitFlags.AsyncRead | FuseInitFlags.ParallelDirOps | FuseInitFlags.BigWrites | FuseInitFlags.AutoInvalData
            | FuseInitFlags.AsyncDio | FuseInitFlags.HasIoctlDir | FuseInitFlags.AtomicOTrunc | FuseInitFlags.MaxPages
            | FuseInitFlags.SetXattrExt | FuseInitFlags.DirectIoAllowMmap;
        if (_options.PosixLocks)
        {
            wanted |= FuseInitFlags.PosixLocks;
        }
        if (_options.Cache != CachePolicy.Never && _options.ReadDirPlus)
        {
            wanted |= FuseInitFlags.DoReadDirPlus | FuseInitFlags.ReadDirPlusAuto;
        }
        if (_options.Writeback)
        {
            wanted |= FuseInitFlags.WritebackCache;
        }
        if (_options.PosixAcl)
        {
            // DONT_MASK: the guest sends modes unmasked with the caller's umask, and we create
            // under that umask, which the host applies only where the parent has no default ACL.
            wanted |= FuseInitFlags.PosixAcl | FuseInitFlags.DontMask;
        }
        if (_options.AnnounceSubmounts)
        {
            wanted |= FuseInitFlags.Submounts;
        }
        _writeback = (kernelFlags & wanted & FuseInitFlags.WritebackCache) != 0;
        _dontMask = (kernelFlags & wanted & FuseInitFlags.DontMask) != 0;
        return wanted;
    }

    public void Destroy()
    {
        _handles.Clear();
        _inodes.Clear();
    }

    public void Dispose()
    {
        Destroy();
        _inodes.Get(InodeStore.RootId)?.Fd?.Dispose();
        foreach (var fd in _mountFds.Values)
        {
            fd.Dispose();
        }
        _rootDir.Dispose();
        _procSelfFd.Dispose();
    }

    /// <summary>"\0": the empty path for *at calls with AT_EMPTY_PATH.</summary>
    private static ref byte EmptyPath => ref MemoryMarshal.GetReference("\0"u8);

    private void InstallRoot(FileDescriptor rootFd)
    {
        if (LibC.statx(rootFd, ref EmptyPath, LibC.AT_EMPTY_PATH, LibC.STATX_BASIC_STATS | LibC.STATX_MNT_ID, out var st) != 0)
        {
            int errno = Errno.Last;
            rootFd.Dispose();
            throw new IOException($"statx {_options.SharedDir}: errno {errno}");
        }
        var key = new InodeKey(Device(st), st.Ino, st.MountId);
        _inodes.SetRoot(new Inode(InodeStore.RootId, 0, key, st.Mode & LibC.S_IFMT, rootFd, null));
    }

    /// <summary>
    /// Checks that a handle of the shared directory can be made and opened again (open_by_handle_at
    /// needs CAP_DAC_READ_SEARCH, and not every file system has handles).
    /// </summary>
    private FileHandleMode ProbeFileHandles(FileHandleMode wanted)
    {
        if (wanted == FileHandleMode.Never)
        {
            return wanted;
        }
        var root = _inodes.Get(InodeStore.RootId)!.Fd!;
        Span<byte> encoded = stackalloc byte[FileHandleBufferSize];
        int errno = EncodeHandle(root, ref EmptyPath, LibC.AT_EMPTY_PATH, encoded, out int length, out int mountId);
        FileHandle? handle = null;
        if (errno == 0)
        {
            errno = TryMakeHandle(root, LibC.S_IFDIR, encoded[..length], mountId, out handle);
        }
        if (handle is not null)
        {
            int raw = LibC.open_by_handle_at(handle.MountFd, ref handle.Bytes[0], LibC.O_PATH | LibC.O_CLOEXEC);
            if (raw >= 0)
            {
                _ = LibC.close(raw);
                return wanted;
            }
            errno = Errno.Last;
        }
        if (wanted == FileHandleMode.Mandatory)
        {
            throw new IOException($"--inode-file-handles mandatory: file handles do not work here (errno {errno}; open_by_handle_at needs CAP_DAC_READ_SEARCH)");
        }
        return FileHandleMode.Never;
    }

    private static FileDescriptor OpenAbsolute(string path, int flags)
    {
        var bytes = LibC.NulTerminated(path);
        int fd = LibC.openat(LibC.AT_FDCWD, ref bytes[0], flags | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IOException($"open {path}: errno {Errno.Last}");
        }
        return new FileDescriptor(fd);
    }

    private static ulong Device(in LibC.Statx st) => ((ulong)st.DevMajor << 32) | st.DevMinor;

    /// <summary>
    /// An inode's O_PATH descriptor leased for one operation (opened from its file handle if need
    /// be). The lease is a SafeHandle reference: a FORGET on the hiprio queue that drops the inode
    /// meanwhile only defers the close, so the system calls (and the /proc/self/fd/N number) of
    /// this request keep naming this inode until the lease is disposed. No allocation unless the
    /// descriptor has to be opened.
    /// </summary>
    private int PathOf(ulong nodeId, out Inode inode, out PathFd fd)
    {
        inode = _inodes.Get(nodeId)!;
        fd = default;
        if (inode is null)
        {
            return Errno.ENOENT;
        }
        if (inode.Fd is { } own)
        {
            if (!TryBorrow(own))
            {
                return Errno.ENOENT; // forgotten between the look-up and the lease
            }
            fd = new PathFd(own, owned: false);
            return 0;
        }
        if (Volatile.Read(ref inode.CachedFd) is { } cached && TryBorrow(cached))
        {
            fd = new PathFd(cached, owned: false);
            return 0;
        }
        var handle = inode.Handle!;
        int raw = LibC.open_by_handle_at(handle.MountFd, ref handle.Bytes[0], LibC.O_PATH | LibC.O_CLOEXEC);
        if (raw < 0)
        {
            return Errno.Last;
        }
        // Leased before it is published: an eviction racing with this request only defers the close.
        var opened = new FileDescriptor(raw);
        TryBorrow(opened);
        fd = new PathFd(opened, owned: !_fdCache.TryAdd(inode, opened));
        return 0;
    }

    /// <summary>Holds a descriptor open for one request (false if it was closed meanwhile).</summary>
    private static bool TryBorrow(FileDescriptor fd)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
        }
        return added;
    }

    /// <summary>Reopens an O_PATH descriptor with real access flags through /proc/self/fd/N.</summary>
    private int Reopen(FileDescriptor pathFd, int flags, out FileDescriptor opened)
    {
        Span<byte> name = stackalloc byte[16];
        FdName(pathFd, name);
        int fd = LibC.openat(_procSelfFd, ref name[0], (flags & ~LibC.O_NOFOLLOW & ~LibC.O_CREAT & ~LibC.O_EXCL) | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            opened = null!;
            return Errno.Last;
        }
        opened = new FileDescriptor(fd);
        return 0;
    }

    /// <summary>Writes "N\0" (the fd number) for paths relative to /proc/self/fd.</summary>
    private static void FdName(FileDescriptor fd, Span<byte> destination)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(fd.RawValue, destination, out int written);
        destination[written] = 0;
    }

    /// <summary>Attributes of an inode in FUSE form.</summary>
    private static int Stat(FileDescriptor pathFd, out LibC.Statx st) =>
        LibC.statx(pathFd, ref EmptyPath, LibC.AT_EMPTY_PATH | LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS | LibC.STATX_MNT_ID, out st) == 0 ? 0 : Errno.Last;

    private FuseAttr ToAttr(in LibC.Statx st, ulong parentMount)
    {
        var attr = new FuseAttr
        {
            Ino = st.Ino,
            Size = st.Size,
            Blocks = st.Blocks,
            Atime = (ulong)st.Atime.Seconds,
            AtimeNsec = st.Atime.Nanoseconds,
            Mtime = (ulong)st.Mtime.Seconds,
            MtimeNsec = st.Mtime.Nanoseconds,
            Ctime = (ulong)st.Ctime.Seconds,
            CtimeNsec = st.Ctime.Nanoseconds,
            Mode = st.Mode,
            Nlink = st.Nlink,
            Uid = st.Uid,
            Gid = st.Gid,
            Rdev = (st.RdevMinor & 0xff) | ((st.RdevMajor & 0xfff) << 8) | ((st.RdevMinor & ~0xffu) << 12),
            BlockSize = st.BlockSize,
        };
        if (_options.AnnounceSubmounts && parentMount != 0 && st.MountId != parentMount && (st.Mode & LibC.S_IFMT) == LibC.S_IFDIR)
        {
            attr.Flags |= FuseAttr.FlagSubmount;
        }
        return attr;
    }

    private FuseAttrOut ToAttrOut(in LibC.Statx st) => new() { AttrValid = _timeout, Attr = ToAttr(st, 0) };

    /// <summary>
    /// A lease on an O_PATH descriptor (an inode's own, the handle fd cache's, or one opened for
    /// this operation alone, which <paramref name="owned"/> closes at the end).
    /// </summary>
    private readonly struct PathFd(FileDescriptor fd, bool owned) : IDisposable
    {
        public FileDescriptor Fd { get; } = fd;

        public void Dispose()
        {
            Fd?.DangerousRelease();
            if (owned)
            {
                Fd!.Dispose();
            }
        }
    }
}
