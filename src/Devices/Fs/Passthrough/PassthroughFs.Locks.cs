// PassthroughFs.Locks.cs — GETLK and SETLK/SETLKW as OFD locks on the handle's open file
// description: the guest's lock owners are its processes, each with its own open file (and so
// its own handle). One attempt each, never a wait: SETLKW's waiting is LockWaiter's.
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    public int GetLk(ulong node, in FuseLkIn input, out FuseFileLock result)
    {
        result = input.Lock;
        if (!_handles.TryAcquire(input.Handle, out var file))
        {
            return Errno.EBADF;
        }
        var flock = ToFlock(input.Lock);
        using (file)
        {
            if (LibC.fcntl(file.Fd, LibC.F_OFD_GETLK, ref flock) != 0)
            {
                return Errno.Last;
            }
        }
        result = new FuseFileLock
        {
            Type = (uint)flock.Type,
            Start = (ulong)flock.Start,
            End = flock.Length == 0 ? long.MaxValue : (ulong)(flock.Start + flock.Length - 1),
            Pid = 0, // OFD locks have no owner pid (l_pid is -1); 0 tells the guest "not a local process"
        };
        return 0;
    }

    public int SetLk(ulong node, in FuseLkIn input)
    {
        if ((input.LkFlags & FuseLkIn.Flock) != 0)
        {
            return Errno.ENOSYS; // flock() stays in the guest: FLOCK_LOCKS is not offered
        }
        if (!_handles.TryAcquire(input.Handle, out var file))
        {
            return Errno.EBADF;
        }
        using (file)
        {
            // Never F_OFD_SETLKW: a wait could not be interrupted when the queue stops (LockWaiter retries instead).
            var flock = ToFlock(input.Lock);
            return LibC.fcntl(file.Fd, LibC.F_OFD_SETLK, ref flock) == 0 ? 0 : Errno.Last;
        }
    }

    private static LibC.Flock ToFlock(in FuseFileLock lk) => new()
    {
        Type = (short)lk.Type,
        Whence = LibC.SEEK_SET,
        Start = (long)Math.Min(lk.Start, long.MaxValue),
        Length = lk.End >= long.MaxValue ? 0 : (long)(lk.End - lk.Start + 1),
    };
}
