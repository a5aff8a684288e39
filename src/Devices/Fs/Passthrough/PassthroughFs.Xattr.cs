// PassthroughFs.Xattr.cs — SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR (only with --xattr; POSIX
// ACL attributes only with --posix-acl). The calls go through the path "N" relative to the
// worker thread's own current directory, /proc/self/fd (ProcSelfFd), which reaches the inode
// behind an O_PATH handle — symlinks included — without opening it.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    [ThreadStatic]
    private static bool t_inProcSelfFd;

    public int SetXattr(in RequestContext context, ulong node, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setXattrFlags)
    {
        if (!_options.Xattr)
        {
            return Errno.ENOSYS;
        }
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if (IsBlockedAcl(name))
        {
            return Errno.EOPNOTSUPP;
        }
        int errno = WithFdName(node, (fdName, state) =>
        {
            var (n, v, f) = state;
            return LibC.setxattr(ref fdName[0], ref n[0], ref MemoryMarshal.GetReference(v.AsSpan()), (nuint)v.Length, (int)f) == 0 ? 0 : Errno.Last;
        }, (name.ToArray(), value.ToArray(), flags), out _);
        if (errno == 0 && (setXattrFlags & FuseSetXattrIn.AclKillSgid) != 0 && name.SequenceEqual("system.posix_acl_access\0"u8))
        {
            // The caller is not in the file's group and lacks CAP_FSETID: setting the access ACL
            // drops S_ISGID (posix_acl_update_mode), which the host skips for us (we have CAP_FSETID).
            errno = PathOf(node, out _, out var fd);
            if (errno == 0)
            {
                using (fd)
                {
                    errno = KillSuidGid(fd.Fd, LibC.S_ISGID, sgidEvenIfNotGroupExec: true);
                }
            }
        }
        return errno;
    }

    public int GetXattr(ulong node, ReadOnlySpan<byte> name, Span<byte> value, out int length)
    {
        length = 0;
        if (!_options.Xattr)
        {
            return Errno.ENOSYS;
        }
        if (IsBlockedAcl(name))
        {
            return Errno.EOPNOTSUPP;
        }
        var buffer = new byte[Math.Max(value.Length, 1)];
        int errno = WithFdName(node, (fdName, state) =>
        {
            nint n = LibC.getxattr(ref fdName[0], ref state.Name[0], ref state.Buffer[0], (nuint)state.Size);
            return n < 0 ? -Errno.Last : (int)n;
        }, (Name: name.ToArray(), Buffer: buffer, Size: value.Length), out int result);
        if (errno != 0)
        {
            return errno;
        }
        length = result;
        if (value.Length > 0)
        {
            buffer.AsSpan(0, result).CopyTo(value);
        }
        return 0;
    }

    public int ListXattr(ulong node, Span<byte> list, out int length)
    {
        length = 0;
        if (!_options.Xattr)
        {
            return Errno.ENOSYS;
        }
        var buffer = new byte[Math.Max(list.Length, 64 * 1024)];
        int errno = WithFdName(node, (fdName, state) =>
        {
            nint n = LibC.listxattr(ref fdName[0], ref state[0], (nuint)state.Length);
            return n < 0 ? -Errno.Last : (int)n;
        }, buffer, out int result);
        if (errno != 0)
        {
            return errno;
        }
        int filtered = FilterAclNames(buffer.AsSpan(0, result));
        if (list.Length > 0 && filtered > list.Length)
        {
            return Errno.ERANGE;
        }
        length = filtered;
        if (list.Length > 0)
        {
            buffer.AsSpan(0, filtered).CopyTo(list);
        }
        return 0;
    }

    public int RemoveXattr(ulong node, ReadOnlySpan<byte> name)
    {
        if (!_options.Xattr)
        {
            return Errno.ENOSYS;
        }
        if (_options.ReadOnly)
        {
            return Errno.EROFS;
        }
        if (IsBlockedAcl(name))
        {
            return Errno.EOPNOTSUPP;
        }
        return WithFdName(node, (fdName, n) => LibC.removexattr(ref fdName[0], ref n[0]) == 0 ? 0 : Errno.Last, name.ToArray(), out _);
    }

    /// <summary>
    /// Runs <paramref name="call"/> with "N\0" naming the inode's handle relative to this thread's
    /// current directory, /proc/self/fd. Returns an errno; <paramref name="result"/> gets a
    /// non-negative return value (negative values from the call are -errno).
    /// </summary>
    private int WithFdName<T>(ulong node, Func<byte[], T, int> call, T state, out int result)
    {
        result = 0;
        int errno = PathOf(node, out _, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            errno = EnterProcSelfFd();
            if (errno != 0)
            {
                return errno;
            }
            var fdName = new byte[16];
            FdName(fd.Fd, fdName);
            int rc = call(fdName, state);
            if (rc < 0)
            {
                return -rc;
            }
            result = rc;
            return 0;
        }
    }

    /// <summary>Gives this thread its own current directory (ThreadFs) and moves it to /proc/self/fd.</summary>
    private int EnterProcSelfFd()
    {
        if (t_inProcSelfFd)
        {
            return 0;
        }
        int errno = ThreadFs.EnsureOwn();
        if (errno != 0)
        {
            return errno;
        }
        if (LibC.fchdir(_procSelfFd) != 0)
        {
            return Errno.Last;
        }
        t_inProcSelfFd = true;
        return 0;
    }

    private bool IsBlockedAcl(ReadOnlySpan<byte> nameWithNul) => !_options.PosixAcl && nameWithNul.StartsWith("system.posix_acl_"u8);

    /// <summary>Removes ACL names from a listxattr list unless --posix-acl; returns the new length.</summary>
    private int FilterAclNames(Span<byte> list)
    {
        if (_options.PosixAcl)
        {
            return list.Length;
        }
        int read = 0, write = 0;
        while (read < list.Length)
        {
            int end = list[read..].IndexOf((byte)0);
            int length = end < 0 ? list.Length - read : end + 1;
            var entry = list.Slice(read, length);
            if (!entry.StartsWith("system.posix_acl_"u8))
            {
                entry.CopyTo(list[write..]);
                write += length;
            }
            read += length;
        }
        return write;
    }
}
