// MemFd.cs — anonymous shared memory files (memfd_create): the front end allocates guest RAM
// with it, the back end allocates the inflight area with it.
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>Creates memfd files.</summary>
public static class MemFd
{
    /// <summary>Creates a memfd of <paramref name="size"/> bytes (zero-filled).</summary>
    /// <param name="name">Name shown in /proc/PID/fd.</param>
    /// <param name="size">Size in bytes.</param>
    /// <param name="sealSize">Seal against shrinking and growing once sized.</param>
    public static FileDescriptor Create(string name, long size, bool sealSize = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int raw = LibC.memfd_create(name, LibC.MFD_CLOEXEC | (sealSize ? LibC.MFD_ALLOW_SEALING : 0));
        if (raw < 0)
        {
            ThrowHelper.ThrowIOError("memfd_create");
        }
        var fd = new FileDescriptor(raw);
        if (LibC.ftruncate(raw, size) < 0)
        {
            int errno = LibC.LastErrno;
            fd.Dispose();
            ThrowHelper.ThrowIOError("ftruncate(memfd)", errno);
        }
        if (sealSize && LibC.fcntl(raw, LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL) < 0)
        {
            int errno = LibC.LastErrno;
            fd.Dispose();
            ThrowHelper.ThrowIOError("fcntl(F_ADD_SEALS)", errno);
        }
        return fd;
    }
}
