// What a guest run saw: the checks and measurements the guest reported, how far it got, and
// every log (serial console, QEMU's stderr, each daemon's output) for failure messages.
using System.Globalization;
using System.Text;

namespace VhostUser.EndToEnd;

/// <summary>The outcome of a <see cref="GuestRun"/>.</summary>
public sealed class GuestResult
{
    private const int ReportDaemonLogChars = 20_000;
    private readonly SerialProtocol _protocol = new();
    private readonly StringBuilder _serial = new();
    private readonly List<string> _problems = [];
    private readonly List<DaemonRecord> _daemons = [];
    private readonly GuestRun _run;

    internal GuestResult(GuestRun run) => _run = run;

    /// <summary>The run's name.</summary>
    public string Name => _run.Name;

    /// <summary>The run's transport.</summary>
    public Transport Transport => _run.Transport;

    /// <summary>Checks in the order the guest reported them.</summary>
    public IReadOnlyList<GuestCheck> Checks => _protocol.Checks;

    /// <summary>VHOSTD-INFO key/value pairs in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Info => _protocol.Info;

    /// <summary>The stage the guest reached.</summary>
    public int Stage => _protocol.Stage;

    /// <summary>How many times /init started.</summary>
    public int Boots => _protocol.Boots;

    /// <summary>The guest printed VHOSTD-DONE in its last stage.</summary>
    public bool Finished => _protocol.Done && _protocol.DoneStage >= _run.Stages;

    /// <summary>The run hit its timeout.</summary>
    public bool TimedOut { get; internal set; }

    /// <summary>Host time from QEMU's start to the first VHOSTD-BOOT line (kernel boot under TCG).</summary>
    public TimeSpan? BootTime { get; private set; }

    /// <summary>Host time from QEMU's start to the end of the run.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>QEMU's exit code (null when it never started).</summary>
    public int? QemuExitCode { get; internal set; }

    /// <summary>QEMU's command line.</summary>
    public string QemuCommandLine { get; internal set; } = "";

    /// <summary>QEMU's stderr.</summary>
    public string QemuLog { get; internal set; } = "";

    /// <summary>The guest serial console.</summary>
    public string SerialLog => _serial.ToString();

    /// <summary>Where the full log was written.</summary>
    public string? LogFile { get; private set; }

    /// <summary>Problems the harness saw (timeout, QEMU failure, no VHOSTD-DONE, …) plus failed checks.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var all = new List<string>(_problems);
            if (!Finished && !TimedOut)
            {
                all.Add(QemuExitCode is { } code and not 0
                    ? $"QEMU exited with {code} before the guest finished: {LastLines(QemuLog, 5)}"
                    : $"the guest never reported VHOSTD-DONE (reached stage {Stage} of {_run.Stages})");
            }

            all.AddRange(Checks.Where(c => !c.Passed).Select(c => c.ToString()));
            return all;
        }
    }

    /// <summary>No problems and at least one check.</summary>
    public bool Succeeded => Problems.Count == 0 && Checks.Count > 0;

    /// <summary>One line: what ran where and how it went.</summary>
    public string Summary =>
        string.Create(CultureInfo.InvariantCulture,
            $"guest '{Name}' on {(Transport == Transport.Pci ? "PCI (q35)" : "MMIO (microvm)")}, {HostInfo.AcceleratorReason}: "
            + $"{(Succeeded ? "passed" : "FAILED")}, {Checks.Count(c => c.Passed)}/{Checks.Count} checks passed, "
            + $"boot {BootTime?.TotalSeconds ?? double.NaN:0.0} s, whole run {Elapsed.TotalSeconds:0.0} s");

    /// <summary>The last value of a VHOSTD-INFO key, or null.</summary>
    public string? InfoValue(string key) => Info.LastOrDefault(kv => kv.Key == key).Value;

    /// <summary>The last value of a numeric VHOSTD-INFO key, or null.</summary>
    public double? InfoNumber(string key) =>
        double.TryParse(InfoValue(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>
    /// Problems plus any of <paramref name="expectedChecks"/> the guest never passed (a check
    /// passes if it passed in any stage). Empty means the run did what was expected.
    /// </summary>
    public IReadOnlyList<string> Verify(params string[] expectedChecks)
    {
        var problems = Problems.ToList();
        if (Checks.Count == 0)
        {
            problems.Add("the guest reported no checks");
        }

        problems.AddRange(expectedChecks
            .Where(name => !Checks.Any(c => c.Name == name && c.Passed) && !Checks.Any(c => c.Name == name))
            .Select(name => $"expected check '{name}' was never reported"));
        return problems;
    }

    /// <summary>The full report: summary, checks, problems, and every log.</summary>
    public string Report(IEnumerable<string>? problems = null)
    {
        var b = new StringBuilder();
        b.AppendLine(Summary);
        foreach (var p in problems ?? Problems)
        {
            b.Append("  problem: ").AppendLine(p);
        }

        foreach (var c in Checks)
        {
            b.Append("  ").AppendLine(c.ToString());
        }

        if (LogFile is not null)
        {
            b.Append("full log: ").AppendLine(LogFile);
        }

        AppendLogs(b, ReportDaemonLogChars);
        return b.ToString();
    }

    internal string? AcceptSerialLine(string line, TimeSpan sinceStart)
    {
        _serial.Append(line.TrimEnd('\r')).Append('\n');
        var kind = _protocol.Accept(line);
        if (kind == "BOOT" && BootTime is null)
        {
            BootTime = sinceStart;
        }

        return kind;
    }

    internal void AddProblem(string problem) => _problems.Add(problem);

    internal void AddDaemon(DaemonProcess daemon)
    {
        var state = !daemon.HasExited ? "still running"
            : daemon.ExitedOnItsOwn ? $"exited on its own with {daemon.ExitCode}"
            : "stopped by the rig after the run";
        _daemons.Add(new DaemonRecord(daemon.Spec.Id, daemon.CommandLine, state, daemon.Log));
    }

    internal void WriteLog(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var safe = string.Concat(Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
            var file = Path.Combine(directory, $"{safe}-{Transport.ToString().ToLowerInvariant()}.log");
            var b = new StringBuilder();
            b.AppendLine(Summary);
            foreach (var p in Problems)
            {
                b.Append("  problem: ").AppendLine(p);
            }

            AppendLogs(b, int.MaxValue);
            File.WriteAllText(file, b.ToString());
            LogFile = file;
        }
        catch (IOException)
        {
        }
    }

    private void AppendLogs(StringBuilder b, int daemonLogChars)
    {
        b.AppendLine("--- QEMU command line ---").AppendLine(QemuCommandLine);
        b.AppendLine("--- guest serial console ---").Append(SerialLog);
        if (QemuLog.Length > 0)
        {
            b.AppendLine($"--- QEMU stderr (exit {QemuExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"}) ---").Append(QemuLog);
        }

        foreach (var d in _daemons)
        {
            b.AppendLine($"--- daemon {d.Id} ({d.State}): {d.CommandLine} ---");
            b.Append(d.Log.Length <= daemonLogChars ? d.Log : "[…]\n" + d.Log[^daemonLogChars..]);
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(count));

    private sealed record DaemonRecord(string Id, string CommandLine, string State, string Log);
}
