// SpawnedDaemon.cs — a back end the bench starts itself: `taskset -c CPU sh -c "exec CMD"`, so the
// daemon and all its threads run on one core that is not the bench's; its output goes to a log
// file in the temporary directory. Ready once its socket is listening, read from /proc/net/unix
// rather than by connecting (a probe connection would be the daemon's first front end, and a
// daemon that serves one front end at a time would see it come and go). Stopped with SIGTERM,
// then SIGKILL after 5 s; its log is removed then, unless it had exited by itself (kept for a look).
using System.Diagnostics;
using System.Globalization;

namespace VhostUser.Bench;

/// <summary>A daemon process started by the bench.</summary>
internal sealed class SpawnedDaemon : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly string _socketPath;

    private SpawnedDaemon(Process process, string socketPath, string logPath)
    {
        _process = process;
        _socketPath = socketPath;
        LogPath = logPath;
    }

    /// <summary>The daemon's process id (taskset and sh exec into it).</summary>
    public int Pid => _process.Id;

    /// <summary>Where its stdout and stderr go.</summary>
    public string LogPath { get; }

    /// <summary>
    /// Starts <paramref name="command"/> ({socket} replaced by <paramref name="socketPath"/>) pinned
    /// to <paramref name="cpu"/>, and waits until it listens on <paramref name="socketPath"/>.
    /// A stale socket file at that path is removed first.
    /// </summary>
    public static SpawnedDaemon Start(string command, string socketPath, int cpu, string label)
    {
        if (File.Exists(socketPath))
        {
            File.Delete(socketPath);
        }
        string logPath = Path.Combine(Path.GetTempPath(), $"vhost-user-bench-{Environment.ProcessId}-{label}.log");
        var start = new ProcessStartInfo("taskset") { UseShellExecute = false };
        foreach (string argument in new[] { "-c", cpu.ToString(CultureInfo.InvariantCulture), "/bin/sh", "-c", "exec " + command.Replace("{socket}", socketPath, StringComparison.Ordinal) + " >\"$0\" 2>&1", logPath })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new BenchFailedException("cannot start taskset");
        var daemon = new SpawnedDaemon(process, socketPath, logPath);
        try
        {
            daemon.WaitUntilListening();
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    /// <summary>Stops the daemon (SIGTERM, then SIGKILL) and removes its socket if it left it.</summary>
    public void Dispose()
    {
        bool running = !_process.HasExited;
        if (running)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        _process.Dispose();
        if (File.Exists(_socketPath))
        {
            File.Delete(_socketPath);
        }
        if (running)
        {
            File.Delete(LogPath);
        }
        else
        {
            Console.Error.WriteLine($"vhost-user-bench: the daemon had exited by itself; its output is in {LogPath}");
        }
    }

    private void WaitUntilListening()
    {
        var clock = Stopwatch.StartNew();
        while (!IsListening(_socketPath))
        {
            if (_process.HasExited)
            {
                throw new BenchFailedException($"the daemon exited with code {_process.ExitCode} before listening: {LogTail()}");
            }
            if (clock.Elapsed > ReadyTimeout)
            {
                throw new BenchFailedException($"the daemon did not listen on {_socketPath} within {ReadyTimeout.TotalSeconds:0} s: {LogTail()}");
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>True if /proc/net/unix lists a listening socket (flag __SO_ACCEPTCON) at <paramref name="path"/>.</summary>
    private static bool IsListening(string path)
    {
        foreach (string line in File.ReadLines("/proc/net/unix"))
        {
            // Num RefCount Protocol Flags Type St Inode Path
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && fields[3] == "00010000" && fields[7] == path)
            {
                return true;
            }
        }
        return false;
    }

    private string LogTail()
    {
        try
        {
            string text = File.ReadAllText(LogPath).Trim();
            return text.Length == 0 ? "(no output)" : text[Math.Max(0, text.Length - 800)..];
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
