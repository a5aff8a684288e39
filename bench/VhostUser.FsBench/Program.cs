// Program.cs — vhost-user-fs-bench: FUSE request throughput of two virtio-fs daemons on the same
// shared directory, measured natively (the C# front end is the guest driver; no TCG in the loop).
//
//   vhost-user-fs-bench --dir /var/tmp/fsbench \
//       --a "out/vhost-user-fs --socket-path {socket} --shared-dir {dir}" \
//       --b ".cache/virtiofsd/virtiofsd --socket-path {socket} --shared-dir {dir}" \
//       [--queues 1,4] [--depth 8] [--duration 3] [--repeat 3] [--workloads stat,create,unlink,randread,seqread,seqwrite]
//
// Each (workload, queue count) is run --repeat times per daemon in alternating order (A B, B A, …)
// with a fresh daemon per run; the table shows medians and the ratio A/B.
using System.Diagnostics;
using System.Globalization;
using VhostUser.FsBench;

var options = ParseArguments(args);
if (options is null)
{
    Console.Error.WriteLine("usage: vhost-user-fs-bench --dir DIR --a \"CMD\" --b \"CMD\" [--queues 1,4] [--depth 8] [--duration 3] [--repeat 3] [--workloads LIST]");
    return 2;
}
Prepare(options.Dir);
var rows = new List<string>();
Console.WriteLine($"# {Environment.ProcessorCount} CPUs, depth {options.Depth} per queue, {options.Duration} s per run, {options.Repeat} runs per daemon");
foreach (int queues in options.Queues)
{
    foreach (string workload in options.Workloads.Where(w => w != "unlink"))
    {
        var results = new Dictionary<string, List<(double Ops, double? Unlink)>> { ["A"] = [], ["B"] = [] };
        for (int rep = 0; rep < options.Repeat; rep++)
        {
            foreach (string who in rep % 2 == 0 ? new[] { "A", "B" } : ["B", "A"])
            {
                var result = Measure(options, who == "A" ? options.A : options.B, workload, queues, $"{who}{rep}");
                results[who].Add(result);
                Console.Error.WriteLine($"  {workload} q{queues} {who}: {result.Ops:F0}/s{(result.Unlink is { } u ? $", unlink {u:F0}/s" : "")}");
            }
        }
        rows.Add(Row(workload, queues, results["A"].Select(r => r.Ops), results["B"].Select(r => r.Ops)));
        if (workload == "create" && options.Workloads.Contains("unlink"))
        {
            rows.Add(Row("unlink", queues, results["A"].Select(r => r.Unlink!.Value), results["B"].Select(r => r.Unlink!.Value)));
        }
    }
}
Console.WriteLine("| workload | queues | A ops/s | A MiB/s | B ops/s | B MiB/s | A/B |");
Console.WriteLine("|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);
return 0;

static string Row(string workload, int queues, IEnumerable<double> a, IEnumerable<double> b)
{
    double ma = Median(a), mb = Median(b);
    int size = Workloads.BlockSize(workload);
    string MiB(double ops) => size == 0 ? "–" : (ops * size / (1 << 20)).ToString("F0", CultureInfo.InvariantCulture);
    return string.Create(CultureInfo.InvariantCulture, $"| {workload} | {queues} | {ma:F0} | {MiB(ma)} | {mb:F0} | {MiB(mb)} | {ma / mb:F2} |");
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.OrderBy(v => v).ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static (double Ops, double? Unlink) Measure(Options options, string command, string workload, int queues, string runId)
{
    string socket = Path.Combine(Path.GetTempPath(), $"vhost-fs-bench-{Environment.ProcessId}.sock");
    File.Delete(socket);
    using var daemon = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exec " + command.Replace("{socket}", socket).Replace("{dir}", options.Dir)])
    {
        RedirectStandardError = true,
        RedirectStandardOutput = true,
    })!;
    daemon.ErrorDataReceived += (_, _) => { };
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
        double ops = RunOnQueues(session, workload, queues, options.Duration, $"{runId}-{workload}");
        double? unlink = null;
        if (workload == "create" && options.Workloads.Contains("unlink"))
        {
            unlink = RunOnQueues(session, "unlink", queues, 0, $"{runId}-unlink");
        }
        return (ops, unlink);
    }
    finally
    {
        daemon.Kill(entireProcessTree: true);
        daemon.WaitForExit();
        File.Delete(socket);
    }
}

static double RunOnQueues(FsSession session, string workload, int queues, double seconds, string runId)
{
    var counts = new long[queues + 1];
    var clock = Stopwatch.StartNew();
    var until = seconds > 0 ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue;
    var threads = Enumerable.Range(1, queues).Select(q => new Thread(() => counts[q] = Workloads.Run(workload, session, q, until, runId))).ToList();
    threads.ForEach(t => t.Start());
    threads.ForEach(t => t.Join());
    return counts.Sum() / clock.Elapsed.TotalSeconds;
}

static void Prepare(string dir)
{
    Directory.CreateDirectory(dir);
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
        string write = Path.Combine(dir, $"write-{q}");
        if (!File.Exists(write))
        {
            File.WriteAllBytes(write, []);
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
        int.Parse(values.GetValueOrDefault("--repeat", "3"), CultureInfo.InvariantCulture),
        values.GetValueOrDefault("--workloads", string.Join(',', Workloads.All)).Split(','));
}

internal sealed record Options(string Dir, string A, string B, int[] Queues, int Depth, double Duration, int Repeat, string[] Workloads);
