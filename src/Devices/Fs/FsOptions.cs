// FsOptions.cs — the fs daemon's options, validated here so the device can trust them. Names,
// values and defaults follow virtiofsd (1.13) so scripts can switch daemons.
using VhostUser.Backend;

namespace VhostUser.Devices.Fs;

/// <summary>--cache: how long the guest may cache names, attributes and file data.</summary>
internal enum CachePolicy
{
    /// <summary>Entries and attributes for 1 s; data cached, dropped when the file changed.</summary>
    Auto,

    /// <summary>Everything cached for a day (the host does not change the directory).</summary>
    Always,

    /// <summary>Metadata for a day, no data cache.</summary>
    Metadata,

    /// <summary>Nothing cached: host changes show at once.</summary>
    Never,
}

/// <summary>--sandbox: how the daemon confines itself to --shared-dir.</summary>
internal enum SandboxMode
{
    /// <summary>New mount and network namespaces, pivot_root into the shared directory.</summary>
    Namespace,

    /// <summary>chroot into the shared directory.</summary>
    Chroot,

    /// <summary>No confinement beyond the per-request checks.</summary>
    None,
}

/// <summary>--seccomp: what a system call on the sandbox's deny list gets (virtiofsd's option).</summary>
internal enum SeccompAction
{
    /// <summary>It fails with EPERM (the default: the daemon goes on).</summary>
    Errno,

    /// <summary>The process is killed.</summary>
    Kill,

    /// <summary>SIGSYS is raised.</summary>
    Trap,

    /// <summary>It is allowed and logged by the kernel (audit).</summary>
    Log,

    /// <summary>No filter.</summary>
    None,
}

/// <summary>--inode-file-handles: keep inodes as file handles instead of O_PATH fds.</summary>
internal enum FileHandleMode
{
    Never,
    Prefer,
    Mandatory,
}

/// <summary>Validated fs options.</summary>
internal sealed record FsOptions
{
    /// <summary>Longest tag QEMU accepts (virtio_fs_config.tag is 36 bytes).</summary>
    public const int MaxTagLength = 36;

    public required string SharedDir { get; init; }

    public string? Tag { get; init; }

    public int RequestQueues { get; init; } = 1;

    public CachePolicy Cache { get; init; } = CachePolicy.Auto;

    public bool Writeback { get; init; }

    public bool Xattr { get; init; }

    public bool PosixAcl { get; init; }

    public bool ReadOnly { get; init; }

    public SandboxMode Sandbox { get; init; } = SandboxMode.Namespace;

    public FileHandleMode InodeFileHandles { get; init; } = FileHandleMode.Prefer;

    public int ThreadPoolSize { get; init; }

    /// <summary>Mark mount points inside the share (on by default, as in virtiofsd 1.11+).</summary>
    public bool AnnounceSubmounts { get; init; } = true;

    /// <summary>Offer READDIRPLUS (off with --no-readdirplus, and never with --cache never).</summary>
    public bool ReadDirPlus { get; init; } = true;

    /// <summary>Keep the guest's O_DIRECT when opening files (virtiofsd --allow-direct-io).</summary>
    public bool AllowDirectIo { get; init; }

    /// <summary>Offer POSIX locks (FUSE_POSIX_LOCKS); off with -o no_posix_lock: the guest then locks locally.</summary>
    public bool PosixLocks { get; init; } = true;

    /// <summary>Keep the guest's O_NOATIME even when the daemon lacks CAP_FOWNER (it is dropped then otherwise, as virtiofsd does).</summary>
    public bool PreserveNoatime { get; init; }

    /// <summary>--seccomp: the action for the sandbox's denied system calls.</summary>
    public SeccompAction Seccomp { get; init; } = SeccompAction.Errno;

    /// <summary>--socket-group: the group the socket is given, with read and write for it (0770), so its members can connect.</summary>
    public string? SocketGroup { get; init; }

    /// <summary>--rlimit-nofile: RLIMIT_NOFILE to set (0: leave it); null: min(10⁶, fs.nr_open).</summary>
    public ulong? RlimitNofile { get; init; }

    /// <summary>Checks raw option values; throws <see cref="DaemonOptionsException"/> saying what to fix.</summary>
    public static FsOptions Create(string? sharedDir, string? tag, int requestQueues, string cache, bool writeback, bool xattr, bool posixAcl,
        bool readOnly, string sandbox, string fileHandles, int threadPoolSize, bool announceSubmounts)
    {
        if (string.IsNullOrEmpty(sharedDir))
        {
            throw new DaemonOptionsException("--shared-dir DIR is required (the host directory to share)");
        }
        if (!Directory.Exists(sharedDir))
        {
            throw new DaemonOptionsException($"--shared-dir {sharedDir}: not a directory");
        }
        if (tag is not null && (tag.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(tag) > MaxTagLength))
        {
            throw new DaemonOptionsException($"--tag must be 1 to {MaxTagLength} bytes, not '{tag}'");
        }
        if (requestQueues is < 1 or > 64)
        {
            throw new DaemonOptionsException($"--num-request-queues must be 1 to 64, not {requestQueues}");
        }
        if (threadPoolSize is < 0 or > 1024)
        {
            throw new DaemonOptionsException($"--thread-pool-size must be 0 to 1024, not {threadPoolSize}");
        }
        if (posixAcl && !xattr)
        {
            throw new DaemonOptionsException("--posix-acl needs --xattr");
        }
        return new FsOptions
        {
            SharedDir = Path.GetFullPath(sharedDir),
            Tag = tag,
            RequestQueues = requestQueues,
            Cache = ParseEnum<CachePolicy>("--cache", cache, "auto, always, metadata or never"),
            Writeback = writeback,
            Xattr = xattr,
            PosixAcl = posixAcl,
            ReadOnly = readOnly,
            Sandbox = ParseEnum<SandboxMode>("--sandbox", sandbox, "namespace, chroot or none"),
            // "fallback": virtiofsd's deprecated name for prefer.
            InodeFileHandles = fileHandles == "fallback" ? FileHandleMode.Prefer
                : ParseEnum<FileHandleMode>("--inode-file-handles", fileHandles, "never, prefer or mandatory"),
            ThreadPoolSize = threadPoolSize,
            AnnounceSubmounts = announceSubmounts,
        };
    }

    /// <summary>--seccomp's word: errno, kill, trap, log or none.</summary>
    public static SeccompAction ParseSeccomp(string value) =>
        ParseEnum<SeccompAction>("--seccomp", value, "errno, kill, trap, log or none");

    private static T ParseEnum<T>(string option, string value, string allowed)
        where T : struct, Enum
    {
        if (!Enum.TryParse<T>(value, ignoreCase: true, out var result) || int.TryParse(value, out _))
        {
            throw new DaemonOptionsException($"{option} must be {allowed}, not '{value}'");
        }
        return result;
    }
}
