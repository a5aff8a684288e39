// Sandbox.cs — --sandbox: confine the daemon to --shared-dir before it serves anything, as
// virtiofsd does. Runs on the main thread before any worker thread exists, so every thread the
// daemon creates afterwards inherits the namespaces, root and capability bounding set (these are
// per thread in Linux; runtime threads that existed before never touch guest files).
//   namespace: new mount + network namespaces, the shared directory bind-mounted and made the
//              root with pivot_root, the old root detached;
//   chroot:    chroot into the shared directory;
//   none:      nothing (the per-request checks still hold).
// Then capabilities the daemon never needs are dropped from the bounding set.
using Microsoft.Extensions.Logging;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs;

internal static class Sandbox
{
    /// <summary>Capabilities a passthrough file server uses (chown, dac_override, dac_read_search, fowner, fsetid, setgid, setuid, mknod, setfcap, sys_admin for trusted xattrs).</summary>
    private static readonly int[] Kept = [0, 1, 2, 3, 4, 6, 7, 21, 27, 31];

    /// <summary>
    /// Raises RLIMIT_NOFILE to min(1 000 000, fs.nr_open) as virtiofsd does: with inodes kept as
    /// O_PATH fds (--inode-file-handles never) every inode the guest knows costs one.
    /// </summary>
    public static void RaiseFileLimit(ILogger logger)
    {
        ulong limit = 1_000_000;
        if (ulong.TryParse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), out ulong nrOpen))
        {
            limit = Math.Min(limit, nrOpen);
        }
        var wanted = new LibC.RLimit { Current = limit, Maximum = limit };
        if (LibC.setrlimit(LibC.RLIMIT_NOFILE, ref wanted) == 0 || LibC.getrlimit(LibC.RLIMIT_NOFILE, out var current) != 0)
        {
            return;
        }
        // A container may forbid raising the hard limit even to root: take the soft limit up to it.
        current.Current = current.Maximum;
        Call(LibC.setrlimit(LibC.RLIMIT_NOFILE, ref current), "raising RLIMIT_NOFILE", logger, "big trees may run out of fds (use --inode-file-handles)");
    }

    /// <summary>Applies the mode; returns the shared directory's path inside the sandbox.</summary>
    public static string Enter(SandboxMode mode, string sharedDir, ILogger logger)
    {
        string root = sharedDir;
        if (mode == SandboxMode.Namespace)
        {
            root = EnterNamespace(sharedDir, logger) ? "/" : sharedDir;
        }
        else if (mode == SandboxMode.Chroot)
        {
            if (Call(LibC.chroot(ref Path(sharedDir)[0]), "chroot", logger) && Call(LibC.chdir(ref Path("/")[0]), "chdir /", logger))
            {
                root = "/";
            }
        }
        if (mode != SandboxMode.None)
        {
            DropCapabilities();
        }
        return root;
    }

    private static bool EnterNamespace(string sharedDir, ILogger logger)
    {
        var dir = Path(sharedDir);
        var none = Path("");
        var bind = Path("bind");
        var dot = Path(".");
        return Call(LibC.unshare(LibC.CLONE_NEWNS | LibC.CLONE_NEWNET | LibC.CLONE_NEWIPC), "unshare(mount, net, ipc)", logger)
            && Call(LibC.mount(ref none[0], ref Path("/")[0], ref none[0], LibC.MS_REC | LibC.MS_SLAVE, 0), "mount --make-rslave /", logger)
            && Call(LibC.mount(ref dir[0], ref dir[0], ref bind[0], LibC.MS_BIND | LibC.MS_REC, 0), "bind mount of the shared directory", logger)
            && Call(LibC.chdir(ref dir[0]), "chdir", logger)
            && Call(LibC.pivot_root(ref dot[0], ref dot[0]), "pivot_root", logger)
            && Call(LibC.umount2(ref dot[0], LibC.MNT_DETACH), "detaching the old root", logger)
            && Call(LibC.chdir(ref Path("/")[0]), "chdir /", logger);
    }

    private static void DropCapabilities()
    {
        for (int cap = 0; cap <= 40; cap++)
        {
            if (Array.IndexOf(Kept, cap) < 0)
            {
                _ = LibC.prctl(LibC.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0); // EINVAL past the last known capability: ignore
            }
        }
    }

    private static bool Call(int rc, string what, ILogger logger, string consequence = "continuing with the per-request checks only")
    {
        if (rc == 0)
        {
            return true;
        }
        Log.SandboxStep(logger, what, Errno.Last, consequence);
        return false;
    }

    private static byte[] Path(string path)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
        System.Text.Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }
}
