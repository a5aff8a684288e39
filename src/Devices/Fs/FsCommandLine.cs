// FsCommandLine.cs — the fs daemon's options on top of the back-end conventions, named as
// virtiofsd's so that scripts and libvirt can switch daemons. --print-capabilities says
// "separate-options": libvirt then passes its options as separate arguments
// (qemuVirtioFSBuildCommandLine: --fd=N, --shared-dir DIR, --cache never|always,
// --sandbox MODE, --xattr, --thread-pool-size=N, --rlimit-nofile=N, --log-level debug), every one
// of which is accepted here, in both the "--name value" and "--name=value" forms. virtiofsd's
// legacy forms (-o source=DIR,cache=…, -d, -f, --socket) are rewritten into these by FsCompat.
using System.CommandLine;
using VhostUser.Backend;

namespace VhostUser.Devices.Fs;

internal sealed class FsCommandLine
{
    private readonly Option<string> _sharedDir = new("--shared-dir") { Description = "host directory to share", HelpName = "DIR" };
    private readonly Option<string?> _tag = new("--tag") { Description = "file system tag (offers the config space; QEMU builds its own from tag=)", HelpName = "TAG" };
    private readonly Option<int> _queues = new("--num-request-queues") { Description = "request queues accepted (QEMU num-request-queues; default 16)", HelpName = "N", DefaultValueFactory = _ => 16 };
    private readonly Option<string> _cache = new("--cache") { Description = "auto, always, metadata or never", HelpName = "POLICY", DefaultValueFactory = _ => "auto" };
    private readonly Option<bool> _writeback = new("--writeback") { Description = "let the guest cache writes (FUSE writeback cache)" };
    private readonly Option<bool> _xattr = new("--xattr") { Description = "serve extended attributes" };
    private readonly Option<bool> _posixAcl = new("--posix-acl") { Description = "serve POSIX ACLs (needs --xattr)" };
    private readonly Option<bool> _readOnly = new("--readonly") { Description = "refuse every change" };
    private readonly Option<string> _sandbox = new("--sandbox") { Description = "namespace, chroot or none", HelpName = "MODE", DefaultValueFactory = _ => "namespace" };
    private readonly Option<string> _fileHandles = new("--inode-file-handles") { Description = "never, prefer or mandatory: keep inodes as file handles, not fds (prefer: where the kernel allows)", HelpName = "MODE", DefaultValueFactory = _ => "prefer" };
    private readonly Option<int> _threadPool = new("--thread-pool-size") { Description = "threads serving requests off the queue threads (0: on the queue threads)", HelpName = "N", DefaultValueFactory = _ => 0 };
    private readonly Option<bool> _submounts = new("--announce-submounts") { Description = "tell the guest about mount points inside the shared directory (the default)" };
    private readonly Option<bool> _noSubmounts = new("--no-announce-submounts") { Description = "do not tell the guest about mount points inside the shared directory" };
    private readonly Option<bool> _noReaddirplus = new("--no-readdirplus") { Description = "do not offer READDIRPLUS (always off with --cache never)" };
    private readonly Option<bool> _allowDirectIo = new("--allow-direct-io") { Description = "honour O_DIRECT from guest programs (dropped by default)" };
    private readonly Option<bool> _noPosixLock = new("--no-posix-lock") { Description = "do not offer POSIX locks: the guest kernel then keeps them locally (-o no_posix_lock)" };
    private readonly Option<bool> _preserveNoatime = new("--preserve-noatime") { Description = "keep O_NOATIME from the guest even without CAP_FOWNER (root always keeps it)" };
    private readonly Option<bool> _noKillprivV2 = new("--no-killpriv-v2") { Description = "do not offer HANDLE_KILLPRIV_V2 (the default; it is not offered)" };
    private readonly Option<string> _seccomp = new("--seccomp") { Description = "what a denied system call gets: errno (EPERM), kill, trap, log or none (no filter)", HelpName = "ACTION", DefaultValueFactory = _ => "errno" };
    private readonly Option<string?> _socketGroup = new("--socket-group") { Description = "give the --socket-path socket to GROUP, which may then connect (mode 0770)", HelpName = "GROUP" };
    // Only for --help: FsCompat.Expand turns every -o into the options above before parsing.
    private readonly Option<string[]> _compat = new("-o") { Description = "virtiofsd legacy options, comma-separated: source=DIR, cache=…, sandbox=…, log_level=…, [no_]xattr, [no_]posix_acl, [no_]writeback, [no_]readdirplus, [no_]allow_direct_io, [no_]announce_submounts, [no_]posix_lock, no_flock; --name options win", HelpName = "OPTS" };
    private readonly Option<ulong?> _rlimitNofile = new("--rlimit-nofile") { Description = "RLIMIT_NOFILE to set (0: leave it; default min(1000000, fs.nr_open))", HelpName = "N" };

    public FsCommandLine()
    {
        CommandLine = new DaemonCommandLine("vhost-user-fs", "vhost-user virtio-fs back end (shares a host directory with a guest)", "fs");
        foreach (var option in (Option[])[_sharedDir, _tag, _queues, _cache, _writeback, _xattr, _posixAcl, _readOnly, _sandbox, _fileHandles, _threadPool, _submounts,
            _noSubmounts, _noReaddirplus, _allowDirectIo, _noPosixLock, _preserveNoatime, _noKillprivV2, _seccomp, _socketGroup, _rlimitNofile, _compat])
        {
            CommandLine.Add(option);
        }
        // virtiofsd's capability for "options as separate arguments, not -o"; no migrate-precopy (README "Not done").
        CommandLine.CapabilityFeatures.Add("separate-options");
        CommandLine.EnableSyslog();
    }

    public DaemonCommandLine CommandLine { get; }

    /// <summary>The validated options of a parsed command line; throws <see cref="DaemonOptionsException"/> saying what to fix.</summary>
    public FsOptions Options(ParseResult parse) => FsOptions.Create(parse.GetValue(_sharedDir), parse.GetValue(_tag), parse.GetValue(_queues), parse.GetValue(_cache)!,
        parse.GetValue(_writeback), parse.GetValue(_xattr), parse.GetValue(_posixAcl), parse.GetValue(_readOnly),
        parse.GetValue(_sandbox)!, parse.GetValue(_fileHandles)!, parse.GetValue(_threadPool), !parse.GetValue(_noSubmounts)) with
    {
        RlimitNofile = parse.GetValue(_rlimitNofile),
        ReadDirPlus = !parse.GetValue(_noReaddirplus),
        AllowDirectIo = parse.GetValue(_allowDirectIo),
        PosixLocks = !parse.GetValue(_noPosixLock),
        PreserveNoatime = parse.GetValue(_preserveNoatime),
        Seccomp = FsOptions.ParseSeccomp(parse.GetValue(_seccomp)!),
        SocketGroup = parse.GetValue(_socketGroup),
    };
}
