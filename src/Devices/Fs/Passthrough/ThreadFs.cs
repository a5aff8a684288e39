// ThreadFs.cs — the calling thread's own fs_struct (umask, current directory). Linux shares them
// between the threads of a process unless a thread unshares CLONE_FS, which each worker does
// once, on first need (the seccomp filter allows unshare(CLONE_FS) alone): the xattr calls move
// it into /proc/self/fd, and with --posix-acl the creating calls run under the request's umask.
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs.Passthrough;

internal static class ThreadFs
{
    [ThreadStatic]
    private static bool t_own;

    /// <summary>Gives this thread an fs_struct of its own (once); returns 0 or the errno.</summary>
    public static int EnsureOwn()
    {
        if (t_own)
        {
            return 0;
        }
        if (LibC.unshare(LibC.CLONE_FS) != 0)
        {
            return Errno.Last;
        }
        t_own = true;
        return 0;
    }

    /// <summary>
    /// Runs one creating call under the guest caller's umask (FUSE_DONT_MASK: the guest sent the
    /// mode unmasked). The host applies it only where the parent has no default ACL, as a local
    /// mkdir/open/mknod would; the thread's umask is 0 again afterwards (the daemon's: the guest
    /// applies the caller's umask itself otherwise).
    /// </summary>
    public readonly struct Umask : IDisposable
    {
        private readonly bool _set;

        private Umask(bool set) => _set = set;

        /// <summary>Sets <paramref name="umask"/> on this thread if <paramref name="apply"/>; 0 or the errno.</summary>
        public static int Set(bool apply, uint umask, out Umask scope)
        {
            scope = default;
            if (!apply)
            {
                return 0;
            }
            int errno = EnsureOwn();
            if (errno != 0)
            {
                return errno;
            }
            _ = LibC.umask((int)(umask & 0x1ff)); // never fails
            scope = new Umask(true);
            return 0;
        }

        public void Dispose()
        {
            if (_set)
            {
                _ = LibC.umask(0);
            }
        }
    }
}
