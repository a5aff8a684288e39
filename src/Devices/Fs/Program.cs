// Program.cs — vhost-user-fs: parse virtiofsd-compatible options, listen (before the sandbox hides
// the socket's directory), enter the sandbox, open the shared directory inside it, drop
// privileges, serve. A sandbox step that fails ends the daemon (exit 1). After the front end goes
// away the daemon serves the next one (re-listen); virtiofsd exits instead.
using VhostUser.Backend;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Passthrough;
using VhostUser.Unix;

var commandLine = new FsCommandLine();
string[] expanded;
try
{
    expanded = FsCompat.Expand(args); // virtiofsd's -o, -d, -f, --socket
}
catch (DaemonOptionsException e)
{
    Console.Error.WriteLine($"vhost-user-fs: error: {e.Message}");
    return DaemonCommandLine.UsageError;
}
return commandLine.CommandLine.Run(expanded, invocation =>
{
    var options = commandLine.Options(invocation.ParseResult);
    var logger = invocation.LoggerFactory.CreateLogger("vhost-user-fs");
    PassthroughFs fs;
    int? fd = invocation.Fd;
    if (options.SocketGroup is not null && invocation.SocketPath is null)
    {
        throw new DaemonOptionsException("--socket-group needs --socket-path (an inherited --fd socket is the caller's to set up)");
    }
    uint? socketGroup = options.SocketGroup is { } group ? SocketGroup.Resolve(group) : null;
    if (invocation.SocketPath is { } path && (options.Sandbox != SandboxMode.None || socketGroup is not null))
    {
        fd = ListenEarly(path); // after pivot_root the socket's directory is out of sight
        if (socketGroup is { } gid)
        {
            SocketGroup.Apply(path, gid);
        }
    }
    try
    {
        Sandbox.RaiseFileLimit(options.RlimitNofile, logger);
        // The share is opened inside the sandbox (as virtiofsd does after pivot_root): every fd the
        // file server holds is then on the sandbox's mount, and ".." from it ends at the share.
        var root = Sandbox.Confine(options.Sandbox, options.SharedDir);
        fs = OpenShare(options, root);
        Sandbox.DropPrivileges(options.Sandbox, fs.FileHandles != FileHandleMode.Never, options.Seccomp, logger);
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
