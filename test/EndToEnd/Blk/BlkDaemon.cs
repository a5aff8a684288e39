// BlkDaemon.cs — out/vhost-user-blk started by a test rather than by the rig, because the test
// signals it: SIGHUP (resize), SIGKILL and a restart on the same socket (crash-safe reconnect).
// Every incarnation's output is kept for the report.
using System.Diagnostics;
using System.Text;

namespace VhostUser.EndToEnd.Tests.Blk;

internal sealed class BlkDaemon : IAsyncDisposable
{
    private readonly string _executable;
    private readonly string[] _arguments;
    private readonly StringBuilder _earlierLogs = new();
    private ChildProcess? _current;

    private BlkDaemon(string executable, string socketPath, string[] arguments)
    {
        _executable = executable;
        SocketPath = socketPath;
        _arguments = arguments;
    }

    public string SocketPath { get; }

    /// <summary>Times the daemon was killed and started again.</summary>
    public int Restarts { get; private set; }

    /// <summary>Output of every incarnation so far.</summary>
    public string Log => _earlierLogs + (_current?.Log ?? "");

    public bool IsRunning => _current is { HasExited: false };

    public static async Task<BlkDaemon> StartAsync(string directory, params string[] options)
    {
        Rig.Require("blk");
        var paths = RigPaths.Discover();
        var daemon = new BlkDaemon(paths.Daemon("blk"), Path.Combine(directory, "blk.sock"),
            ["--socket-path", Path.Combine(directory, "blk.sock"), .. options]);
        await daemon.LaunchAsync();
        return daemon;
    }

    /// <summary>SIGKILL, as a crash would; the socket file stays behind.</summary>
    public async Task KillAsync()
    {
        var current = _current ?? throw new InvalidOperationException("not started");
        Process.GetProcessById(current.Id).Kill(); // SIGKILL on Unix
        await current.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await current.DisposeAsync();
        _earlierLogs.Append(current.Log).Append("\n[killed with SIGKILL]\n");
        _current = null;
    }

    /// <summary>Kills and starts a new daemon on the same socket.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        await KillAsync();
        await Task.Delay(downtime);
        await LaunchAsync();
        Restarts++;
    }

    /// <summary>Sends SIGHUP (re-read the backing's size).</summary>
    public void HangUp()
    {
        using var kill = Process.Start("kill", ["-HUP", _current!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (_current is not null)
        {
            await _current.DisposeAsync();
            _earlierLogs.Append(_current.Log);
            _current = null;
        }
    }

    private async Task LaunchAsync()
    {
        _current = ChildProcess.Start("daemon blk", _executable, _arguments);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!DaemonProcess.IsListening(SocketPath))
        {
            if (_current.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"vhost-user-blk did not listen on {SocketPath}\n{Log}");
            }
            await Task.Delay(20);
        }
    }
}
