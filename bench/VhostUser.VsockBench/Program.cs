// Program.cs — vhost-user-vsock-bench: vhost-user-vsock measured natively (the C# front end is the
// guest driver, no TCG in the loop), next to the machine's loopback TCP and Unix-socket
// throughput as the ceiling.
//
//   vhost-user-vsock-bench [--daemon out/vhost-user-vsock] [--modes h2g,g2h,connect-h2g,connect-g2h,unix,tcp]
//       [--repeat 3] [--seconds 5] [--warmup 1] [--rx-payload 4096] [--guest-cpu 0] [--host-cpu 1] [--daemon-cpu 1]
//
// Every mode runs --repeat times, the order rotated each round; each vsock run starts a fresh
// daemon pinned with taskset to --daemon-cpu, the guest driver thread on --guest-cpu and the host
// program thread on --host-cpu (-1: any CPU). The baselines (unix, tcp) run their writer on
// --host-cpu and their reader on --guest-cpu. Output: a Markdown table of medians and min–max.
using System.Diagnostics;
using System.Globalization;
using VhostUser.VsockBench;

var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: vhost-user-vsock-bench [--daemon PATH] [--modes h2g,g2h,connect-h2g,connect-g2h,unix,tcp] [--repeat 3] [--seconds 5] [--warmup 1] [--rx-payload 4096] [--guest-cpu 0] [--host-cpu 1] [--daemon-cpu 1]");
    return 2;
}
var window = new Window(TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Seconds));
var results = options.Modes.ToDictionary(m => m, _ => new List<(double Rate, double DaemonCpu, int Round)>());
Console.WriteLine($"# {Environment.ProcessorCount} CPUs, rx buffers of {options.RxPayload} payload bytes, {options.Warmup} s warm-up + {options.Seconds} s per run, {options.Repeat} runs per mode, guest driver on CPU {options.GuestCpu}, host program on CPU {options.HostCpu}, daemon on CPU {options.DaemonCpu} (-1: any)");
for (int round = 0; round < options.Repeat; round++)
{
    for (int i = 0; i < options.Modes.Length; i++)
    {
        string mode = options.Modes[(i + round) % options.Modes.Length];
        var (rate, cpu) = Measure(options, mode, window);
        results[mode].Add((rate, cpu, round));
        Console.Error.WriteLine(FormattableString.Invariant($"  {mode} run {round + 1}: {rate:F1} {Unit(mode)}{(double.IsNaN(cpu) ? "" : $", daemon CPU {cpu:F0} %")}"));
    }
}
// The machine is shared: throughput drifts with other people's load, so next to the medians each
// throughput run is also divided by the Unix-socket baseline of the same round, and the daemon's
// CPU time per MB (or per connection) is given, which waiting for a CPU does not inflate.
Console.WriteLine("| mode | median | min – max | unit | ÷ unix, same round (median) | daemon CPU | daemon CPU per unit |");
Console.WriteLine("|---|---:|---:|---|---:|---:|---:|");
foreach (string mode in options.Modes)
{
    var runs = results[mode];
    var rates = runs.Select(r => r.Rate).Order().ToArray();
    double cpu = Median(runs.Select(r => r.DaemonCpu).Order().ToArray());
    double perUnit = Median(runs.Select(r => r.DaemonCpu / 100 * 1e6 / r.Rate).Order().ToArray());
    double ratio = Unit(mode) == "MB/s" && results.TryGetValue("unix", out var unix)
        ? Median(runs.Select(r => r.Rate / unix.First(u => u.Round == r.Round).Rate).Order().ToArray())
        : double.NaN;
    string Cell(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
    Console.WriteLine(FormattableString.Invariant(
        $"| {mode} | {Median(rates):F0} | {rates[0]:F0} – {rates[^1]:F0} | {Unit(mode)} | {Cell(ratio, "F2")} | {Cell(cpu, "F0")}{(double.IsNaN(cpu) ? "" : " %")} | {Cell(perUnit, "F1")}{(double.IsNaN(perUnit) ? "" : mode.StartsWith("connect", StringComparison.Ordinal) ? " µs/conn" : " µs/MB")} |"));
}
return 0;

static string Unit(string mode) => mode.StartsWith("connect", StringComparison.Ordinal) ? "connections/s" : "MB/s";

static double Median(double[] sorted) =>
    sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

static (double Rate, double DaemonCpu) Measure(Options options, string mode, Window window)
{
    var pinning = new Pinning(options.GuestCpu, options.HostCpu);
    pinning.PinGuest();
    if (mode is "unix" or "tcp")
    {
        return (Baseline.Run(mode, window, pinning), double.NaN);
    }
    string directory = Directory.CreateTempSubdirectory("vsock-bench-").FullName;
    string socket = Path.Combine(directory, "vhost.sock"), uds = Path.Combine(directory, "vm.vsock");
    var start = new ProcessStartInfo(options.DaemonCpu >= 0 ? "taskset" : options.Daemon) { RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (string arg in (options.DaemonCpu >= 0 ? ["-c", options.DaemonCpu.ToString(CultureInfo.InvariantCulture), options.Daemon] : Array.Empty<string>())
        .Concat(["--socket-path", socket, "--uds-path", uds]))
    {
        start.ArgumentList.Add(arg);
    }
    using var daemon = Process.Start(start) ?? throw new InvalidOperationException("cannot start the daemon");
    daemon.BeginErrorReadLine();
    daemon.BeginOutputReadLine();
    try
    {
        for (int i = 0; i < 200 && !File.Exists(socket); i++)
        {
            Thread.Sleep(25);
        }
        using var guest = new GuestDriver(socket, options.RxPayload);
        double cpu0 = CpuSeconds(daemon.Id);
        var clock = Stopwatch.StartNew();
        double rate = Workloads.Run(mode, guest, uds, window, pinning);
        return (rate, 100 * (CpuSeconds(daemon.Id) - cpu0) / clock.Elapsed.TotalSeconds);
    }
    finally
    {
        daemon.Kill(entireProcessTree: true);
        daemon.WaitForExit();
        Directory.Delete(directory, recursive: true);
    }
}

// utime + stime of the daemon (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s).
static double CpuSeconds(int pid)
{
    string stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
}
