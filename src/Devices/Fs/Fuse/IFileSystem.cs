// IFileSystem.cs — the narrow interface between the FUSE protocol layer and whatever serves the
// files (Passthrough/PassthroughFs for a host directory; a fake in tests). Methods mirror the
// FUSE requests; every one returns 0 or a positive errno, which FuseServer puts into the reply.
// Names are NUL-terminated byte strings already checked to be one path component. Methods may be
// called from several threads at once (one per request queue, plus the thread pool).
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Fuse;

/// <summary>A file system served over FUSE.</summary>
internal interface IFileSystem
{
    /// <summary>Capabilities to offer in INIT, given what the kernel offers.</summary>
    FuseInitFlags Init(FuseInitFlags kernelFlags);

    /// <summary>The session ended (DESTROY, a new INIT, or the front end went away): drop every inode and handle.</summary>
    void Destroy();

    int Lookup(ulong parent, ReadOnlySpan<byte> name, out FuseEntryOut entry);

    void Forget(ulong node, ulong count);

    int GetAttr(ulong node, ulong? handle, out FuseAttrOut attr);

    int SetAttr(in RequestContext context, ulong node, in FuseSetAttrIn input, out FuseAttrOut attr);

    int ReadLink(ulong node, Span<byte> target, out int length);

    int Symlink(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntryOut entry);

    int MkNod(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntryOut entry);

    int MkDir(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntryOut entry);

    int Unlink(ulong parent, ReadOnlySpan<byte> name);

    int RmDir(ulong parent, ReadOnlySpan<byte> name);

    int Rename(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags);

    int Link(ulong node, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntryOut entry);

    int Open(in RequestContext context, ulong node, uint flags, out FuseOpenOut open);

    int Create(in RequestContext context, ulong parent, ReadOnlySpan<byte> name, in FuseCreateIn input, out FuseEntryOut entry, out FuseOpenOut open);

    int TmpFile(in RequestContext context, ulong parent, in FuseCreateIn input, out FuseEntryOut entry, out FuseOpenOut open);

    /// <summary>Reads at <paramref name="offset"/> straight into the reply's guest buffers (<paramref name="target"/>).</summary>
    int Read(ulong node, ulong handle, long offset, IoVectorArray target, out uint read);

    /// <summary>
    /// Writes the request's data (<paramref name="source"/>, guest buffers) at <paramref name="offset"/>;
    /// <paramref name="writeFlags"/> is fuse_write_in.write_flags (KILL_SUIDGID: the writer lacks CAP_FSETID).
    /// </summary>
    int Write(in RequestContext context, ulong node, ulong handle, long offset, IoVectorArray source, uint writeFlags, out uint written);

    int StatFs(ulong node, out FuseStatFsOut statfs);

    int Release(ulong node, ulong handle, uint flags, uint releaseFlags, ulong lockOwner);

    int Flush(ulong node, ulong handle, ulong lockOwner);

    int Fsync(ulong node, ulong handle, bool dataOnly);

    /// <summary><paramref name="setXattrFlags"/>: fuse_setxattr_in.setxattr_flags (SETXATTR_EXT), e.g. ACL_KILL_SGID.</summary>
    int SetXattr(in RequestContext context, ulong node, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setXattrFlags);

    /// <summary>With an empty <paramref name="value"/>, returns the size needed in <paramref name="length"/>.</summary>
    int GetXattr(ulong node, ReadOnlySpan<byte> name, Span<byte> value, out int length);

    int ListXattr(ulong node, Span<byte> list, out int length);

    int RemoveXattr(ulong node, ReadOnlySpan<byte> name);

    int OpenDir(in RequestContext context, ulong node, uint flags, out FuseOpenOut open);

    /// <summary>Fills <paramref name="buffer"/> with fuse_dirent (or fuse_direntplus) records from <paramref name="offset"/>.</summary>
    int ReadDir(ulong node, ulong handle, long offset, bool plus, Span<byte> buffer, out int length);

    int ReleaseDir(ulong node, ulong handle);

    int FsyncDir(ulong node, ulong handle, bool dataOnly);

    int Access(in RequestContext context, ulong node, uint mask);

    int Fallocate(ulong node, ulong handle, uint mode, long offset, long length);

    int Lseek(ulong node, ulong handle, long offset, uint whence, out long result);

    int CopyFileRange(ulong nodeIn, in FuseCopyFileRangeIn input, out ulong copied);

    int SyncFs(ulong node);

    int GetLk(ulong node, in FuseLkIn input, out FuseFileLock result);

    /// <summary>One attempt, never a wait: EAGAIN (or EACCES) if a conflicting lock is held (SETLKW retries: LockWaiter).</summary>
    int SetLk(ulong node, in FuseLkIn input);

    /// <summary>Restricted ioctls only (FUSE_IOCTL without UNRESTRICTED): returns ENOTTY for what is not known safe.</summary>
    int Ioctl(ulong node, in FuseIoctlIn input, ReadOnlySpan<byte> inData, Span<byte> outData, out int result, out int outLength);
}
