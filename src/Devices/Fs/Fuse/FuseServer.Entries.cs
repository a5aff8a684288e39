// FuseServer.Entries.cs — requests about names and inodes: LOOKUP, FORGET, BATCH_FORGET,
// GETATTR, SETATTR, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, RENAME2, LINK,
// ACCESS, STATFS.
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs.Fuse;

internal sealed partial class FuseServer
{
    /// <summary>Most entries one BATCH_FORGET may carry before we stop reading (the kernel sends ≤ 512 per chain).</summary>
    private const uint MaxBatchForget = 1 << 16;

    private uint Lookup(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!TryReadName(ref q, ref r, 0, out var name, out int errno))
        {
            return Error(ref w, q, errno);
        }
        errno = _fs.Lookup(q.Node, name, out var entry);
        return errno == 0 ? Reply(ref w, q, entry) : Error(ref w, q, errno);
    }

    private uint Forget(ref Request q, ref ChainReader r)
    {
        if (r.TryRead(out FuseForgetIn forget))
        {
            _fs.Forget(q.Node, forget.Count);
        }
        return 0; // FORGET has no reply
    }

    private uint BatchForget(ref Request q, ref ChainReader r)
    {
        if (!r.TryRead(out FuseBatchForgetIn batch))
        {
            return 0;
        }
        uint count = Math.Min(batch.Count, MaxBatchForget);
        for (uint i = 0; i < count && r.TryRead(out FuseForgetOne one); i++)
        {
            _fs.Forget(one.NodeId, one.Count);
        }
        return 0;
    }

    private uint GetAttr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        ulong? handle = null;
        if (r.TryRead(out FuseGetAttrIn input) && (input.Flags & FuseGetAttrIn.UseHandle) != 0)
        {
            handle = input.Handle;
        }
        int errno = _fs.GetAttr(q.Node, handle, out var attr);
        return errno == 0 ? Reply(ref w, q, attr) : Error(ref w, q, errno);
    }

    private uint SetAttr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseSetAttrIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = _fs.SetAttr(q.Context, q.Node, input, out var attr);
        return errno == 0 ? Reply(ref w, q, attr) : Error(ref w, q, errno);
    }

    private uint ReadLink(ref Request q, ref ChainWriter w)
    {
        var target = Scratch.AsSpan(0, 4096);
        int errno = _fs.ReadLink(q.Node, target, out int length);
        return errno == 0 ? ReplyWith(ref w, q, target[..length]) : Error(ref w, q, errno);
    }

    private uint Symlink(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        // Arguments: name\0 target\0 (fuse.h FUSE_SYMLINK).
        if (!TryReadRest(ref q, ref r, 0, out var rest) || !FuseName.TrySplit(rest, out var name, out rest)
            || !FuseName.TrySplit(rest, out var target, out _))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = FuseName.Validate(name);
        if (errno != 0 || target.Length < 2)
        {
            return Error(ref w, q, errno != 0 ? errno : Errno.ENOENT);
        }
        errno = _fs.Symlink(q.Context, q.Node, name, target, out var entry);
        return errno == 0 ? Reply(ref w, q, entry) : Error(ref w, q, errno);
    }

    private uint MkNod(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseMkNodIn input) || !TryReadName(ref q, ref r, 16, out var name, out int errno))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        errno = _fs.MkNod(q.Context, q.Node, name, input.Mode, input.Rdev, input.Umask, out var entry);
        return errno == 0 ? Reply(ref w, q, entry) : Error(ref w, q, errno);
    }

    private uint MkDir(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseMkDirIn input) || !TryReadName(ref q, ref r, 8, out var name, out int errno))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        errno = _fs.MkDir(q.Context, q.Node, name, input.Mode, input.Umask, out var entry);
        return errno == 0 ? Reply(ref w, q, entry) : Error(ref w, q, errno);
    }

    private uint Unlink(ref Request q, ref ChainReader r, ref ChainWriter w, bool directory)
    {
        if (!TryReadName(ref q, ref r, 0, out var name, out int errno))
        {
            return Error(ref w, q, errno);
        }
        return Status(ref w, q, directory ? _fs.RmDir(q.Node, name) : _fs.Unlink(q.Node, name));
    }

    private uint Rename(ref Request q, ref ChainReader r, ref ChainWriter w, bool rename2)
    {
        ulong newDir;
        uint flags = 0;
        uint consumed;
        if (rename2)
        {
            if (!r.TryRead(out FuseRename2In input))
            {
                return Error(ref w, q, Errno.EINVAL);
            }
            (newDir, flags, consumed) = (input.NewDir, input.Flags, 16);
        }
        else
        {
            if (!r.TryRead(out FuseRenameIn input))
            {
                return Error(ref w, q, Errno.EINVAL);
            }
            (newDir, consumed) = (input.NewDir, 8);
        }
        if (!TryReadRest(ref q, ref r, consumed, out var rest) || !FuseName.TrySplit(rest, out var oldName, out rest)
            || !FuseName.TrySplit(rest, out var newName, out _))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = FuseName.Validate(oldName);
        errno = errno != 0 ? errno : FuseName.Validate(newName);
        return Status(ref w, q, errno != 0 ? errno : _fs.Rename(q.Node, oldName, newDir, newName, flags));
    }

    private uint Link(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseLinkIn input) || !TryReadName(ref q, ref r, 8, out var name, out int errno))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        errno = _fs.Link(input.OldNodeId, q.Node, name, out var entry);
        return errno == 0 ? Reply(ref w, q, entry) : Error(ref w, q, errno);
    }

    private uint Access(ref Request q, ref ChainReader r, ref ChainWriter w) =>
        r.TryRead(out FuseAccessIn input) ? Status(ref w, q, _fs.Access(q.Context, q.Node, input.Mask)) : Error(ref w, q, Errno.EINVAL);

    private uint StatFs(ref Request q, ref ChainWriter w)
    {
        int errno = _fs.StatFs(q.Node, out var statfs);
        return errno == 0 ? Reply(ref w, q, statfs) : Error(ref w, q, errno);
    }

    /// <summary>Reads the one name that ends a request, after <paramref name="consumed"/> argument bytes, and checks it.</summary>
    private static bool TryReadName(ref Request q, ref ChainReader r, uint consumed, out ReadOnlySpan<byte> name, out int errno)
    {
        name = default;
        if (!TryReadRest(ref q, ref r, consumed, out var rest) || !FuseName.TrySplit(rest, out name, out _))
        {
            errno = Errno.EINVAL;
            return false;
        }
        errno = FuseName.Validate(name);
        return errno == 0;
    }
}
