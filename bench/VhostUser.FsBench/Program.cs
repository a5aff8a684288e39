// Program.cs — vhost-user-fs-bench: FUSE request throughput of two virtio-fs daemons on the same
// shared directory, measured natively (the C# front end is the guest driver; no TCG in the loop).
//
//   vhost-user-fs-bench --dir /var/tmp/fsbench \
//       --a "out/vhost-user-fs --socket-path {socket} --shared-dir {dir}" \
//       --b ".cache/virtiofsd/virtiofsd --socket-path {socket} --shared-dir {dir}" \
//       [--queues 1,4] [--depth 8] [--duration 3] [--repeat 5] [--workloads stat,create,unlink,randread,seqread,seqwrite]
//       [--bench-cpu 0] [--daemon-cpu 1]      (-1: no pinning)
//
// Each (workload, queue count) is run --repeat times per daemon in alternating order (A B, B A, …)
// with a fresh daemon per run; the table shows medians and the ratio A/B. Beside the rate, each
// run reports from the scheduler (ProcessStats): the daemon's CPU time per operation, how often
// the daemon slept for want of requests (sleeps per operation), and the share of the run the
// daemon and the driver spent runnable but waiting for their CPU (other load on the machine).
using System.Diagnostics;
using System.Globalization;
using VhostUser.FsBench;

var options = ParseArguments(args);
if (options is null)
{
    Console.Error.WriteLine("usage: vhost-user-fs-bench --dir DIR --a \"CMD\" --b \"CMD\" [--queues 1,4] [--depth 8] [--duration 3] [--repeat 5] [--workloads LIST]");
    return 2;
}
Prepare(options.Dir);
if (options.BenchCpu >= 0 && OperatingSystem.IsLinux())
{
    // The driver threads on one CPU, the daemon (taskset) on another: less migration noise on a shared machine.
    Process.GetCurrentProcess().ProcessorAffinity = (nint)(1L << options.BenchCpu);
}
var rows = new List<string>();
var details = new List<string>();
Console.WriteLine($"# {Environment.ProcessorCount} CPUs, depth {options.Depth} per queue, {options.Duration} s per run, {options.Repeat} runs per daemon, bench on CPU {options.BenchCpu}, daemon on CPU {options.DaemonCpu}");
foreach (int queues in options.Queues)
{
    foreach (string workload in options.Workloads.Where(w => w != "unlink"))
    {
        var results = new Dictionary<string, List<RunResult>> { ["A"] = [], ["B"] = [] };
        for (int rep = 0; rep < options.Repeat; rep++)
        {
            foreach (string who in rep % 2 == 0 ? new[] { "A", "B" } : ["B", "A"])
            {
                var result = Measure(options, who == "A" ? options.A : options.B, workload, queues, $"{who}{rep}");
                results[who].Add(result);
                Console.Error.WriteLine($"  {workload} q{queues} {who}: {result.Ops:F0}/s, daemon CPU {result.CpuUs:F2} µs/op, {result.SleepsPerOp:F3} sleeps/op, "
                    + $"waiting for a CPU: daemon {result.DaemonWaitPct:F0} %, driver {result.DriverWaitPct:F0} %{(result.Unlink is { } u ? $", unlink {u:F0}/s" : "")}");
            }
        }
        rows.Add(Row(workload, queues, results["A"].Select(r => r.Ops), results["B"].Select(r => r.Ops), results["A"].Select(r => r.CpuUs), results["B"].Select(r => r.CpuUs)));
        details.Add(Detail(workload, queues, results["A"], results["B"]));
        if (workload == "create" && options.Workloads.Contains("unlink"))
        {
            rows.Add(Row("unlink", queues, results["A"].Select(r => r.Unlink!.Value), results["B"].Select(r => r.Unlink!.Value), [double.NaN], [double.NaN]));
        }
    }
}
Console.WriteLine("| workload | queues | A ops/s | A MiB/s | A daemon CPU µs/op | B ops/s | B MiB/s | B daemon CPU µs/op | A/B ops/s | B/A CPU per op |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("| workload | queues | A sleeps/op | B sleeps/op | A daemon wait % | B daemon wait % | driver wait % (A runs / B runs) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
details.ForEach(Console.WriteLine);
return 0;

static string Detail(string workload, int queues, List<RunResult> a, List<RunResult> b)
{
    static string F(double v, string format) => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);
    return $"| {workload} | {queues} | {F(Median(a.Select(r => r.SleepsPerOp)), "F3")} | {F(Median(b.Select(r => r.SleepsPerOp)), "F3")} | "
        + $"{F(Median(a.Select(r => r.DaemonWaitPct)), "F0")} | {F(Median(b.Select(r => r.DaemonWaitPct)), "F0")} | "
        + $"{F(Median(a.Select(r => r.DriverWaitPct)), "F0")} / {F(Median(b.Select(r => r.DriverWaitPct)), "F0")} |";
}

static string Row(string workload, int queues, IEnumerable<double> a, IEnumerable<double> b, IEnumerable<double> cpuA, IEnumerable<double> cpuB)
{
    double ca = Median(cpuA.Where(v => !double.IsNaN(v))), cb = Median(cpuB.Where(v => !double.IsNaN(v)));
    string Cpu(double us) => double.IsNaN(us) ? "–" : us.ToString("F2", CultureInfo.InvariantCulture);
    double ma = Median(a.Where(v => !double.IsNaN(v))), mb = Median(b.Where(v => !double.IsNaN(v)));
    int size = Workloads.BlockSize(workload);
    string Ops(double ops) => double.IsNaN(ops) ? "n/a" : ops.ToString("F0", CultureInfo.InvariantCulture);
    string MiB(double ops) => size == 0 || double.IsNaN(ops) ? "–" : (ops * size / (1 << 20)).ToString("F0", CultureInfo.InvariantCulture);
    string ratio = double.IsNaN(ma / mb) ? "–" : (ma / mb).ToString("F2", CultureInfo.InvariantCulture);
    string cpuRatio = double.IsNaN(cb / ca) ? "–" : (cb / ca).ToString("F2", CultureInfo.InvariantCulture);
    return $"| {workload} | {queues} | {Ops(ma)} | {MiB(ma)} | {Cpu(ca)} | {Ops(mb)} | {MiB(mb)} | {Cpu(cb)} | {ratio} | {cpuRatio} |";
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
    if (sorted.Length == 0)
    {
        return double.NaN;
    }
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static RunResult Measure(Options options, string command, string workload, int queues, string runId)
{
    string socket = Path.Combine(Path.GetTempPath(), $"vhost-fs-bench-{Environment.ProcessId}.sock");
    File.Delete(socket);
    string pin = options.DaemonCpu >= 0 ? $"taskset -c {options.DaemonCpu} " : "";
    using var daemon = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exec " + pin + command.Replace("{socket}", socket).Replace("{dir}", options.Dir)])
    {
        RedirectStandardError = true,
        RedirectStandardOutput = true,
    })!;
    var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
    daemon.ErrorDataReceived += (_, e) =>
    {
        if (e.Data is not null)
        {
            stderr.Enqueue(e.Data);
        }
    };
    daemon.BeginErrorReadLine();
    daemon.BeginOutputReadLine();
    try
    {
        for (int i = 0; i < 100 && !File.Exists(socket); i++)
        {
            Thread.Sleep(50);
        }
        Thread.Sleep(100);
        using var session = FsSession.Open(socket, queues, options.Depth);
        var daemon0 = ProcessStats.OfTree(daemon.Id);
        var clock = Stopwatch.StartNew();
        var (ops, driverWaitNs) = RunOnQueuesMeasured(session, workload, queues, options.Duration, $"{runId}-{workload}");
        double seconds = clock.Elapsed.TotalSeconds;
        var used = ProcessStats.OfTree(daemon.Id).Since(daemon0);
        double count = ops * seconds;
        double? unlink = null;
        if (workload == "create" && options.Workloads.Contains("unlink"))
        {
            unlink = RunOnQueues(session, "unlink", queues, 0, $"{runId}-unlink");
        }
        return new RunResult(ops, unlink, used.CpuNs / 1e3 / count, used.Sleeps / count, used.WaitNs / 1e7 / seconds, driverWaitNs / 1e7 / seconds / queues);
    }
    catch (Exception e) when (e is VhostUser.Protocol.ProtocolException or IOException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
    {
        // A daemon that cannot serve the configuration (virtiofsd with more than one request queue) gets no number.
        Console.Error.WriteLine($"  {workload} q{queues}: {e.Message}; daemon said: {string.Join(" | ", stderr.TakeLast(3))}");
        return new RunResult(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
    }
    finally
    {
        daemon.Kill(entireProcessTree: true);
        daemon.WaitForExit();
        File.Delete(socket);
    }
}

static double RunOnQueues(FsSession session, string workload, int queues, double seconds, string runId) =>
    RunOnQueuesMeasured(session, workload, queues, seconds, runId).Ops;

// Runs the workload on every request queue; returns operations per second and how long the driver threads waited for a CPU (ns).
static (double Ops, long DriverWaitNs) RunOnQueuesMeasured(FsSession session, string workload, int queues, double seconds, string runId)
{
    var counts = new long[queues + 1];
    var waits = new long[queues + 1];
    var clock = Stopwatch.StartNew();
    var until = seconds > 0 ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue;
    Exception? failure = null;
    var threads = Enumerable.Range(1, queues).Select(q => new Thread(() =>
    {
        try
        {
            long wait0 = ProcessStats.OfThisThread().WaitNs;
            counts[q] = Workloads.Run(workload, session, q, until, runId);
            waits[q] = ProcessStats.OfThisThread().WaitNs - wait0;
        }
        catch (Exception e)
        {
            failure = e;
        }
    })).ToList();
    threads.ForEach(t => t.Start());
    threads.ForEach(t => t.Join());
    if (failure is not null)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
    return (counts.Sum() / clock.Elapsed.TotalSeconds, waits.Sum());
}

static void Prepare(string dir)
{
    Directory.CreateDirectory(dir);
    foreach (string leftover in Directory.EnumerateFiles(dir, "*-create-q*"))
    {
        File.Delete(leftover); // names an interrupted create run did not unlink
    }
    string data = Path.Combine(dir, "data");
    if (!File.Exists(data) || new FileInfo(data).Length != Workloads.DataFileSize)
    {
        var block = new byte[1 << 20];
        new Random(42).NextBytes(block);
        using var file = File.Create(data);
        for (long i = 0; i < Workloads.DataFileSize; i += block.Length)
        {
            file.Write(block);
        }
    }
    for (int q = 1; q <= 16; q++)
    {
        // Allocated up front, so every seqwrite run overwrites (the first would otherwise also allocate).
        string write = Path.Combine(dir, $"write-{q}");
        if (!File.Exists(write) || new FileInfo(write).Length < Workloads.DataFileSize)
        {
            using var handle = File.OpenHandle(write, FileMode.Create, FileAccess.Write, preallocationSize: Workloads.DataFileSize);
        }
    }
    using var warm = File.OpenRead(data); // page cache warm for the read workloads
    var buffer = new byte[1 << 20];
    while (warm.Read(buffer) > 0)
    {
    }
}

static Options? ParseArguments(string[] args)
{
    var values = new Dictionary<string, string>();
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        values[args[i]] = args[i + 1];
    }
    if (!values.TryGetValue("--dir", out var dir) || !values.TryGetValue("--a", out var a) || !values.TryGetValue("--b", out var b))
    {
        return null;
    }
    return new Options(Path.GetFullPath(dir), a, b,
        values.GetValueOrDefault("--queues", "1,4").Split(',').Select(int.Parse).ToArray(),
        int.Parse(values.GetValueOrDefault("--depth", "8"), CultureInfo.InvariantCulture),
        double.Parse(values.GetValueOrDefault("--duration", "3"), CultureInfo.InvariantCulture),
        int.Parse(values.GetValueOrDefault("--repeat", "5"), CultureInfo.InvariantCulture),
        values.GetValueOrDefault("--workloads", string.Join(',', Workloads.All)).Split(','),
        int.Parse(values.GetValueOrDefault("--bench-cpu", "0"), CultureInfo.InvariantCulture),
        int.Parse(values.GetValueOrDefault("--daemon-cpu", "1"), CultureInfo.InvariantCulture));
}

/// <summary>One run: operations per second and what the scheduler saw (ProcessStats), per operation or in % of the run.</summary>
internal readonly record struct RunResult(double Ops, double? Unlink, double CpuUs, double SleepsPerOp, double DaemonWaitPct, double DriverWaitPct);

internal sealed record Options(string Dir, string A, string B, int[] Queues, int Depth, double Duration, int Repeat, string[] Workloads, int BenchCpu, int DaemonCpu);
