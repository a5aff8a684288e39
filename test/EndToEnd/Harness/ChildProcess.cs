// A program the rig starts (QEMU or a daemon) in a session and process group of its own, so that
// stopping it also stops anything it started. Its output is kept (bounded) for failure reports;
// QEMU's standard output (the guest serial console) is also handed out line by line.
using System.Diagnostics;
using System.Text;

namespace VhostUser.EndToEnd;

/// <summary>A started child process in its own process group.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int MaxLogChars = 4 << 20;
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly Lock _logLock = new();
    private readonly Action<string>? _onStandardOutputLine;
    private long _droppedChars;
    private bool _stopped;
    private int? _exitCode;

    private ChildProcess(string name, Process process, Action<string>? onStandardOutputLine)
    {
        Name = name;
        _process = process;
        _onStandardOutputLine = onStandardOutputLine;
    }

    /// <summary>A short name for reports ("qemu", "daemon rng").</summary>
    public string Name { get; }

    /// <summary>The process id; also its process group id (started through setsid).</summary>
    public int Id => _process.Id;

    /// <summary>The command line, for reports.</summary>
    public string CommandLine { get; private init; } = "";

    /// <summary>Whether it has exited.</summary>
    public bool HasExited => _stopped || _process.HasExited;

    /// <summary>Its exit code once exited.</summary>
    public int? ExitCode => _stopped ? _exitCode : _process.HasExited ? _process.ExitCode : null;

    /// <summary>Whether it had exited by itself before <see cref="StopAsync"/> was called.</summary>
    public bool ExitedOnItsOwn { get; private set; }

    /// <summary>What it wrote (stderr, and stdout unless a line handler takes it), bounded.</summary>
    public string Log
    {
        get
        {
            lock (_logLock)
            {
                return _droppedChars == 0 ? _log.ToString() : $"[… {_droppedChars} earlier characters dropped …]\n{_log}";
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="program"/> in a new session (setsid) with stdin from /dev/null.
    /// When <paramref name="onStandardOutputLine"/> is given, stdout lines go to it instead of the log.
    /// </summary>
    public static ChildProcess Start(string name, string program, IEnumerable<string> arguments,
        Action<string>? onStandardOutputLine = null)
    {
        var args = arguments.ToList();
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("--wait");
        info.ArgumentList.Add(program);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, onStandardOutputLine)
        {
            CommandLine = string.Join(' ', args.Prepend(program).Select(Quote)),
        };
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, stdout: false);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        GuestLock.Track(process.Id);
        return child;
    }

    /// <summary>Waits for it to exit.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Waits up to <paramref name="timeout"/> for it to exit; true if it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM to the process group, then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_stopped)
        {
            return;
        }

        ExitedOnItsOwn = _process.HasExited;
        if (!_process.HasExited)
        {
            _ = NativeMethods.kill(-Id, NativeMethods.SIGTERM);
            if (!await WaitForExitAsync(grace).ConfigureAwait(false))
            {
                _ = NativeMethods.kill(-Id, NativeMethods.SIGKILL);
                await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }

        // Whatever is left in the group (children of a process that exited) goes too.
        _ = NativeMethods.kill(-Id, NativeMethods.SIGKILL);
        GuestLock.Untrack(Id);
        _exitCode = _process.HasExited ? _process.ExitCode : null;
        _stopped = true;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _process.Dispose();
    }

    private void OnLine(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        if (stdout && _onStandardOutputLine is not null)
        {
            _onStandardOutputLine(line);
            return;
        }

        lock (_logLock)
        {
            _log.Append(line).Append('\n');
            if (_log.Length > MaxLogChars)
            {
                var drop = _log.Length - (MaxLogChars / 2);
                _log.Remove(0, drop);
                _droppedChars += drop;
            }
        }
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=,:+@%".Contains(c, StringComparison.Ordinal))
            ? s
            : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
