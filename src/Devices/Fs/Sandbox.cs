// Sandbox.cs — --sandbox: confine the daemon to --shared-dir and drop what it does not need before
// it serves anything, as virtiofsd does. Runs on the main thread before any worker thread exists,
// in two steps around opening the share:
//   Confine   namespace: new mount, network and IPC namespaces; a proc of our own mounted there
//                        with /proc/self/fd bind-mounted over it and opened (so ".." from that fd
//                        reaches nothing else); the shared directory bind-mounted and made the
//                        root with pivot_root; the old root detached;
//             chroot:    a detached copy of /proc/self/fd (open_tree), then chroot;
//             none:      nothing (the per-request checks still hold).
//   (the caller opens the share, "/" inside the sandbox, so every fd the file server holds is on
//   the sandbox's own mount and ".." from it ends at the share)
//   DropPrivileges  the capability bounding set emptied, the effective and permitted sets cut to
//             what a passthrough file server uses (Kept), inheritable and ambient cleared,
//             no_new_privs set, and the seccomp deny list (SeccompFilter) installed on every
//             thread.
// Any step that fails throws DaemonStartException: the daemon exits (1) with one line saying
// which step, as virtiofsd does; only --sandbox none runs without a sandbox.
//
// Namespaces, root and capability sets are per thread in Linux, and .NET cannot fork: every
// thread the daemon creates afterwards inherits them from this one, but the runtime threads that
// started before Main (finalizer, signal handler, console logger) keep the host's mount and
// network namespaces and their capabilities. They never touch guest files or guest memory. They
// do get no_new_privs and the seccomp filter (SECCOMP_FILTER_FLAG_TSYNC covers every thread).
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;
using VhostUser.Unix;

namespace VhostUser.Devices.Fs;

/// <summary>Where the file server finds the share and /proc/self/fd once the sandbox is entered.</summary>
/// <param name="SharedDir">The share's path as the daemon now sees it ("/" inside a sandbox).</param>
/// <param name="ProcSelfFd">An O_PATH fd on this process's /proc/self/fd, or null to open it by path (no sandbox).</param>
internal sealed record SandboxRoot(string SharedDir, FileDescriptor? ProcSelfFd);

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
    /// Sets RLIMIT_NOFILE as virtiofsd does: to <paramref name="wanted"/> (--rlimit-nofile; 0 leaves
    /// it as it is), which must not exceed fs.nr_open and must take; else to min(1 000 000,
    /// fs.nr_open), since with inodes kept as O_PATH fds (--inode-file-handles never) every inode
    /// the guest knows costs one, falling back to the hard limit where that cannot be raised.
    /// </summary>
    public static void RaiseFileLimit(ulong? wanted, ILogger logger)
    {
        ulong nrOpen = ulong.TryParse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), out ulong value) ? value : ulong.MaxValue;
        if (wanted is { } exact)
        {
            if (exact > nrOpen)
            {
                throw new DaemonOptionsException($"--rlimit-nofile {exact} is above fs.nr_open ({nrOpen})");
            }
            var limit = new LibC.RLimit { Current = exact, Maximum = exact };
            if (exact != 0 && LibC.setrlimit(LibC.RLIMIT_NOFILE, ref limit) != 0)
            {
                throw new DaemonStartException($"--rlimit-nofile {exact}: setrlimit failed (errno {Errno.Last})");
            }
            return;
        }
        ulong automatic = Math.Min(1_000_000, nrOpen);
        var raised = new LibC.RLimit { Current = automatic, Maximum = automatic };
        if (LibC.setrlimit(LibC.RLIMIT_NOFILE, ref raised) == 0 || LibC.getrlimit(LibC.RLIMIT_NOFILE, out var current) != 0)
        {
            return;
        }
        // A container may forbid raising the hard limit even to root: take the soft limit up to it.
        current.Current = current.Maximum;
        if (LibC.setrlimit(LibC.RLIMIT_NOFILE, ref current) != 0)
        {
            Log.FileLimitNotRaised(logger, Errno.Last);
        }
    }

    /// <summary>First step: namespaces and root (or chroot); throws <see cref="DaemonStartException"/>.</summary>
    public static SandboxRoot Confine(SandboxMode mode, string sharedDir)
    {
        // Whatever the runtime reads from the host's files lazily must be read now: after the root
        // changes, "/etc" is the guest's. The log timestamps' time zone is one such file.
        _ = TimeZoneInfo.Local;
        return mode switch
        {
            SandboxMode.Namespace => EnterNamespace(sharedDir),
            SandboxMode.Chroot => EnterChroot(sharedDir),
            _ => new SandboxRoot(sharedDir, null),
        };
    }

    /// <summary>Second step, once the share is open: capabilities, no_new_privs, seccomp (namespace and chroot only).</summary>
    public static void DropPrivileges(SandboxMode mode, bool fileHandles, SeccompAction seccomp, ILogger logger)
    {
        if (mode != SandboxMode.None)
        {
            DropPrivileges(fileHandles ? [.. Kept, DacReadSearch] : Kept, seccomp, logger);
        }
    }

    private static SandboxRoot EnterNamespace(string sharedDir)
    {
        var dir = LibC.NulTerminated(sharedDir);
        var none = LibC.NulTerminated("");
        var proc = LibC.NulTerminated("/proc");
        var dot = LibC.NulTerminated(".");
        Call(LibC.unshare(LibC.CLONE_NEWNS | LibC.CLONE_NEWNET | LibC.CLONE_NEWIPC), "unshare(mount, net, ipc)");
        Call(LibC.mount(ref none[0], ref LibC.NulTerminated("/")[0], ref none[0], LibC.MS_REC | LibC.MS_SLAVE, 0), "mount --make-rslave /");
        // A proc of this namespace, then its /proc/self/fd bound over it: the fd opened on it sees
        // our descriptors and nothing above them (".." stops at the bind's root).
        Call(LibC.mount(ref LibC.NulTerminated("proc")[0], ref proc[0], ref LibC.NulTerminated("proc")[0], LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC | LibC.MS_RELATIME, 0), "mounting proc");
        Call(LibC.mount(ref LibC.NulTerminated("/proc/self/fd")[0], ref proc[0], ref none[0], LibC.MS_BIND, 0), "bind mount of /proc/self/fd");
        var procSelfFd = Open("/proc", "opening /proc/self/fd");
        try
        {
            Call(LibC.mount(ref dir[0], ref dir[0], ref LibC.NulTerminated("bind")[0], LibC.MS_BIND | LibC.MS_REC, 0), "bind mount of the shared directory");
            Call(LibC.chdir(ref dir[0]), "chdir to the shared directory");
            Call(LibC.pivot_root(ref dot[0], ref dot[0]), "pivot_root");
            Call(LibC.umount2(ref dot[0], LibC.MNT_DETACH), "detaching the old root");
            Call(LibC.chdir(ref LibC.NulTerminated("/")[0]), "chdir /");
        }
        catch
        {
            procSelfFd.Dispose();
            throw;
        }
        return new SandboxRoot("/", procSelfFd);
    }

    private static SandboxRoot EnterChroot(string sharedDir)
    {
        // No mount namespace to mount a proc in: a detached copy of the host's /proc/self/fd
        // mount instead, which likewise ends at its root.
        var path = LibC.NulTerminated("/proc/self/fd");
        int raw = LibC.open_tree(LibC.AT_FDCWD, ref path[0], LibC.OPEN_TREE_CLONE | (uint)LibC.O_CLOEXEC);
        Call(raw < 0 ? -1 : 0, "open_tree(/proc/self/fd, OPEN_TREE_CLONE)");
        var procSelfFd = new FileDescriptor(raw);
        try
        {
            Call(LibC.chroot(ref LibC.NulTerminated(sharedDir)[0]), "chroot");
            Call(LibC.chdir(ref LibC.NulTerminated("/")[0]), "chdir /");
        }
        catch
        {
            procSelfFd.Dispose();
            throw;
        }
        return new SandboxRoot("/", procSelfFd);
    }

    /// <summary>Bounding set emptied, effective = permitted = <paramref name="kept"/> (of what we have), no_new_privs, seccomp.</summary>
    private static void DropPrivileges(int[] kept, SeccompAction seccomp, ILogger logger)
    {
        // Bounding set first: dropping from it needs CAP_SETPCAP, which the capset below gives up.
        for (int cap = 0; cap < 64; cap++)
        {
            if (LibC.prctl(LibC.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) != 0)
            {
                if (Errno.Last == Errno.EINVAL)
                {
                    break; // past the last capability this kernel knows
                }
                Call(-1, $"dropping capability {cap} from the bounding set");
            }
        }
        var header = new LibC.CapHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
        Call(LibC.capget(ref header, out var current), "capget");
        ulong mask = kept.Aggregate(0UL, (m, cap) => m | (1UL << cap));
        ulong permitted = (current.Permitted0 | ((ulong)current.Permitted1 << 32)) & mask;
        var data = new LibC.CapData { Effective0 = (uint)permitted, Permitted0 = (uint)permitted, Effective1 = (uint)(permitted >> 32), Permitted1 = (uint)(permitted >> 32) };
        header = new LibC.CapHeader { Version = LibC.LINUX_CAPABILITY_VERSION_3 };
        Call(LibC.capset(ref header, ref data), "capset");
        _ = LibC.prctl(LibC.PR_CAP_AMBIENT, LibC.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); // EINVAL before Linux 4.3: no ambient set
        Call(LibC.prctl(LibC.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs");
        if (seccomp != SeccompAction.None)
        {
            int errno = SeccompFilter.Install(seccomp);
            if (errno != 0)
            {
                throw Failed("installing the seccomp filter", errno);
            }
        }
        Log.SandboxEntered(logger, permitted, seccomp == SeccompAction.None ? 0 : SeccompFilter.DeniedCount, seccomp);
    }

    private static FileDescriptor Open(string path, string what)
    {
        var bytes = LibC.NulTerminated(path);
        int fd = LibC.openat(LibC.AT_FDCWD, ref bytes[0], LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        Call(fd < 0 ? -1 : 0, what);
        return new FileDescriptor(fd);
    }

    private static void Call(int rc, string what)
    {
        if (rc != 0)
        {
            throw Failed(what, Errno.Last);
        }
    }

    private static DaemonStartException Failed(string what, int errno) =>
        new($"sandbox: {what} failed: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); run as root, or pass --sandbox none");
}
