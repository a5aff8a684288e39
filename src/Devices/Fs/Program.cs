// Program.cs — vhost-user-fs: parse virtiofsd-compatible options, listen (before the sandbox hides
// the socket's directory), enter the sandbox, open the shared directory inside it, drop
// privileges, serve. A sandbox step that fails ends the daemon (exit 1). After the front end goes
// away the daemon serves the next one (re-listen); virtiofsd exits instead.
using System.CommandLine;
using VhostUser.Backend;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Passthrough;
using VhostUser.Unix;

var commandLine = new DaemonCommandLine("vhost-user-fs", "vhost-user virtio-fs back end (shares a host directory with a guest)", "fs");
var sharedDir = new Option<string>("--shared-dir") { Description = "host directory to share", HelpName = "DIR" };
var tag = new Option<string?>("--tag") { Description = "file system tag (offers the config space; QEMU builds its own from tag=)", HelpName = "TAG" };
var queues = new Option<int>("--num-request-queues") { Description = "request queues accepted (QEMU num-request-queues; default 16)", HelpName = "N", DefaultValueFactory = _ => 16 };
var cache = new Option<string>("--cache") { Description = "auto, always, metadata or never", HelpName = "POLICY", DefaultValueFactory = _ => "auto" };
var writeback = new Option<bool>("--writeback") { Description = "let the guest cache writes (FUSE writeback cache)" };
var xattr = new Option<bool>("--xattr") { Description = "serve extended attributes" };
var posixAcl = new Option<bool>("--posix-acl") { Description = "serve POSIX ACLs (needs --xattr)" };
var readOnly = new Option<bool>("--readonly") { Description = "refuse every change" };
var sandbox = new Option<string>("--sandbox") { Description = "namespace, chroot or none", HelpName = "MODE", DefaultValueFactory = _ => "namespace" };
var fileHandles = new Option<string>("--inode-file-handles") { Description = "never, prefer or mandatory: keep inodes as file handles, not fds (prefer: where the kernel allows)", HelpName = "MODE", DefaultValueFactory = _ => "prefer" };
var threadPool = new Option<int>("--thread-pool-size") { Description = "threads serving requests off the queue threads (0: on the queue threads)", HelpName = "N", DefaultValueFactory = _ => 0 };
var submounts = new Option<bool>("--announce-submounts") { Description = "tell the guest about mount points inside the shared directory" };
foreach (var option in new Option[] { sharedDir, tag, queues, cache, writeback, xattr, posixAcl, readOnly, sandbox, fileHandles, threadPool, submounts })
{
    commandLine.Add(option);
}

return commandLine.Run(args, invocation =>
{
    var options = FsOptions.Create(invocation.GetValue(sharedDir), invocation.GetValue(tag), invocation.GetValue(queues), invocation.GetValue(cache)!,
        invocation.GetValue(writeback), invocation.GetValue(xattr), invocation.GetValue(posixAcl), invocation.GetValue(readOnly),
        invocation.GetValue(sandbox)!, invocation.GetValue(fileHandles)!, invocation.GetValue(threadPool), invocation.GetValue(submounts));
    var logger = invocation.LoggerFactory.CreateLogger("vhost-user-fs");
    PassthroughFs fs;
    int? fd = invocation.Fd;
    if (invocation.SocketPath is { } path && options.Sandbox != SandboxMode.None)
    {
        fd = ListenEarly(path); // after pivot_root the socket's directory is out of sight
    }
    try
    {
        Sandbox.RaiseFileLimit(logger);
        // The share is opened inside the sandbox (as virtiofsd does after pivot_root): every fd the
        // file server holds is then on the sandbox's mount, and ".." from it ends at the share.
        var root = Sandbox.Confine(options.Sandbox, options.SharedDir);
        fs = OpenShare(options, root);
        Sandbox.DropPrivileges(options.Sandbox, fs.FileHandles != FileHandleMode.Never, logger);
    }
    catch (Exception) when (fd is not null && invocation.SocketPath is { } created)
    {
        File.Delete(created); // not serving after all: leave no socket behind
        throw;
    }
    Log.Serving(logger, options.SharedDir, options.RequestQueues, options.Cache, options.Sandbox, fs.FileHandles, options.ThreadPoolSize);
    var device = new FsDevice(options, fs);
    return [new DaemonEndpoint(device, fd is null ? invocation.SocketPath : null, fd)];
});

static PassthroughFs OpenShare(FsOptions options, SandboxRoot root)
{
    try
    {
        return new PassthroughFs(options, root: root);
    }
    catch (IOException e)
    {
        throw new DaemonOptionsException($"--shared-dir: {e.Message}");
    }
}

static int ListenEarly(string path)
{
    if (UnixSocket.IsSocketFile(path))
    {
        try
        {
            using var probe = UnixSocket.Connect(path);
            throw new DaemonOptionsException($"--socket-path {path} is in use by another running back end");
        }
        catch (System.Net.Sockets.SocketException)
        {
            File.Delete(path); // nobody listens: a leftover from a killed daemon
        }
    }
    var socket = UnixSocket.Listen(path);
    int fd = socket.Descriptor.RawValue;
    socket.Descriptor.SetHandleAsInvalid(); // the daemon adopts the number and owns it from here
    return fd;
}
