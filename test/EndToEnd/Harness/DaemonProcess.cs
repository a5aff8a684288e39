// A running vhost-user daemon: started with --socket-path in a directory of its own, and ready
// once its socket is listening. Readiness is read from /proc/net/unix (the socket's path in the
// listening state) rather than by connecting: a probe connection would be the daemon's first
// front end, and a daemon serving one front end at a time would see a connection come and go.
namespace VhostUser.EndToEnd;

/// <summary>A started daemon. Dispose stops it (process group) and removes its directory.</summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string? _ownedDirectory;

    private DaemonProcess(DaemonSpec spec, ChildProcess process, string socketPath, string? ownedDirectory)
    {
        Spec = spec;
        _process = process;
        SocketPath = socketPath;
        _ownedDirectory = ownedDirectory;
    }

    /// <summary>What was started.</summary>
    public DaemonSpec Spec { get; }

    /// <summary>The listening socket.</summary>
    public string SocketPath { get; }

    /// <summary>The daemon's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the daemon has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Its exit code once exited.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>Whether it had exited by itself before the rig stopped it.</summary>
    public bool ExitedOnItsOwn => _process.ExitedOnItsOwn;

    /// <summary>Its stdout and stderr so far.</summary>
    public string Log => _process.Log;

    /// <summary>The command line used.</summary>
    public string CommandLine => _process.CommandLine;

    /// <summary>
    /// Starts the daemon with its socket in <paramref name="directory"/> (a fresh temporary
    /// directory, removed on dispose, when null) and waits until the socket listens.
    /// </summary>
    public static async Task<DaemonProcess> StartAsync(DaemonSpec spec, string? directory = null,
        RigPaths? paths = null, TimeSpan? readyTimeout = null, CancellationToken cancellationToken = default)
    {
        paths ??= RigPaths.Discover();
        if (spec.Executable is null && paths.MissingDaemons([spec.Name]) is { } missing)
        {
            throw new RigUnavailableException(missing);
        }

        var owned = directory is null ? Directory.CreateTempSubdirectory("vhostd-daemon-").FullName : null;
        var socketPath = Path.Combine(directory ?? owned!, spec.Id + ".sock");
        var (executable, arguments) = spec.CommandFor(paths, socketPath);
        var process = ChildProcess.Start("daemon " + spec.Id, executable, arguments);
        var daemon = new DaemonProcess(spec, process, socketPath, owned);
        try
        {
            await daemon.WaitUntilListeningAsync(readyTimeout ?? TimeSpan.FromSeconds(30), cancellationToken)
                .ConfigureAwait(false);
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Whether the socket is in the listening state (from /proc/net/unix).</summary>
    public bool IsListening() => IsListening(SocketPath);

    /// <summary>Whether a Unix socket bound to <paramref name="path"/> is listening.</summary>
    public static bool IsListening(string path)
    {
        // Lines: "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 = __SO_ACCEPTCON.
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && fields[3] == "00010000" && fields[7] == path)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        TryDelete(SocketPath);
        if (_ownedDirectory is not null)
        {
            try
            {
                Directory.Delete(_ownedDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(File.Exists(SocketPath) && IsListening()))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"daemon {Spec.Id} exited with {_process.ExitCode} before listening on {SocketPath}\n"
                    + $"command: {CommandLine}\n{Log}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"daemon {Spec.Id} did not listen on {SocketPath} within {timeout.TotalSeconds:0} s\n"
                    + $"command: {CommandLine}\n{Log}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
