// Sandbox.cs — --sandbox: confine the daemon to --shared-dir and drop what it does not need before
// it serves anything, as virtiofsd does. Runs on the main thread before any worker thread exists.
//   namespace: new mount, network and IPC namespaces, the shared directory bind-mounted and made
//              the root with pivot_root, the old root detached;
//   chroot:    chroot into the shared directory;
//   none:      nothing (the per-request checks still hold).
// Then (namespace and chroot): the capability bounding set emptied, the effective and permitted
// sets cut to what a passthrough file server uses (Kept), inheritable and ambient cleared,
// no_new_privs set, and the seccomp deny list (SeccompFilter) installed on every thread.
//
// Namespaces, root and capability sets are per thread in Linux, and .NET cannot fork: every
// thread the daemon creates afterwards inherits them from this one, but the runtime threads that
// started before Main (finalizer, signal handler, console logger) keep the host's mount and
// network namespaces and their capabilities. They never touch guest files or guest memory. They
// do get no_new_privs and the seccomp filter (SECCOMP_FILTER_FLAG_TSYNC covers every thread).
using Microsoft.Extensions.Logging;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs;

internal static class Sandbox
{
    /// <summary>
    /// Capabilities a passthrough file server uses: chown, dac_override, fowner, fsetid, setgid and
    /// setuid (setfsuid/setfsgid per request), mknod, setfcap — virtiofsd's set. dac_read_search
    /// (open_by_handle_at) is added when inodes are kept as file handles.
    /// </summary>
    public static readonly int[] Kept = [0, 1, 3, 4, 6, 7, 27, 31];

    /// <summary>CAP_DAC_READ_SEARCH.</summary>
    public const int DacReadSearch = 2;

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
    public static string Enter(SandboxMode mode, string sharedDir, bool fileHandles, ILogger logger)
    {
        // Whatever the runtime reads from the host's files lazily must be read now: after the root
        // changes, "/etc" is the guest's. The log timestamps' time zone is one such file.
        _ = TimeZoneInfo.Local;
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
            DropPrivileges(fileHandles ? [.. Kept, DacReadSearch] : Kept, logger);
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

    /// <summary>Bounding set emptied, effective = permitted = <paramref name="kept"/> (of what we have), no_new_privs, seccomp.</summary>
    private static void DropPrivileges(int[] kept, ILogger logger)
    {
        // Bounding set first: dropping from it needs CAP_SETPCAP, which the capset below gives up.
        for (int cap = 0; cap < 64; cap++)
        {
            if (LibC.prctl(LibC.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) != 0 && Errno.Last == Errno.EINVAL)
            {
                break; // past the last capability this kernel knows
            }
        }
        ulong permitted = 0;
        var header = new LibC.CapHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
        if (Call(LibC.capget(ref header, out var current), "capget", logger, "capabilities kept as they are"))
        {
            ulong mask = kept.Aggregate(0UL, (m, cap) => m | (1UL << cap));
            permitted = (current.Permitted0 | ((ulong)current.Permitted1 << 32)) & mask;
            var data = new LibC.CapData { Effective0 = (uint)permitted, Permitted0 = (uint)permitted, Effective1 = (uint)(permitted >> 32), Permitted1 = (uint)(permitted >> 32) };
            header = new LibC.CapHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
            Call(LibC.capset(ref header, ref data), "capset", logger, "capabilities kept as they are");
        }
        _ = LibC.prctl(LibC.PR_CAP_AMBIENT, LibC.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); // EINVAL before Linux 4.3: no ambient set
        bool noNewPrivs = Call(LibC.prctl(LibC.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs", logger, "no seccomp filter");
        int denied = 0;
        if (noNewPrivs)
        {
            int errno = SeccompFilter.Install();
            if (errno == 0)
            {
                denied = SeccompFilter.DeniedCount;
            }
            else
            {
                Log.SandboxStep(logger, "installing the seccomp filter", errno, "continuing without it");
            }
        }
        Log.SandboxEntered(logger, permitted, noNewPrivs, denied);
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
