// VectoredIo.cs — preadv2/pwritev2 between any open file and an IoVectorArray over guest memory,
// for devices whose files are not a BlockFile (vhost-user-fs serves whatever the guest opens).
// The array's leases keep every buffer mapped for the duration of the call.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>Vectored reads and writes at an offset.</summary>
public static class VectoredIo
{
    /// <summary>preadv2 into <paramref name="iov"/> at <paramref name="offset"/>: bytes read, or -errno.</summary>
    public static long ReadAt(SafeHandle fd, IoVectorArray iov, long offset) => Transfer(fd, iov, offset, write: false);

    /// <summary>pwritev2 from <paramref name="iov"/> at <paramref name="offset"/>: bytes written, or -errno.</summary>
    public static long WriteAt(SafeHandle fd, IoVectorArray iov, long offset) => Transfer(fd, iov, offset, write: true);

    private static long Transfer(SafeHandle fd, IoVectorArray iov, long offset, bool write)
    {
        if (iov.Count == 0)
        {
            return 0;
        }
        using var lease = new FdLease(fd);
        nint n;
        unsafe
        {
            // SAFETY: the array's entries point into mappings it keeps leased (IoVectorArray).
            var entries = (LibC.iovec*)iov.Address;
            do
            {
                n = write
                    ? LibC.pwritev2(lease.Fd, entries, iov.Count, offset, 0)
                    : LibC.preadv2(lease.Fd, entries, iov.Count, offset, 0);
            }
            while (n < 0 && LibC.LastErrno == LibC.EINTR);
        }
        return n < 0 ? -LibC.LastErrno : n;
    }
}
