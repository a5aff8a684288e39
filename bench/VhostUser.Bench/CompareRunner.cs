// CompareRunner.cs — --compare "CMD_A" "CMD_B" --repeat N: runs both daemons N times each,
// alternating which goes first (A B, B A, A B, ...) so slow drifts of a shared machine fall on
// both, then prints every run, the medians and the ratios B/A.
using System.Globalization;

namespace VhostUser.Bench;

/// <summary>Alternating comparison of two daemons.</summary>
internal static class CompareRunner
{
    private static readonly string[] Labels = ["A", "B"];

    /// <summary>Runs the comparison; returns the exit code (1 if any request failed).</summary>
    public static int Run(BenchOptions options, TextWriter output)
    {
        output.WriteLine($"workload: {options.Describe()}");
        for (int d = 0; d < 2; d++)
        {
            output.WriteLine($"{Labels[d]}: {options.Daemons[d]}");
        }
        var results = new List<BenchResult>[] { [], [] };
        for (int run = 0; run < options.Repeat; run++)
        {
            int[] order = run % 2 == 0 ? [0, 1] : [1, 0];
            foreach (int d in order)
            {
                var result = BenchRun.Once(options, options.Daemons[d], Labels[d]);
                results[d].Add(result);
                output.WriteLine($"run {run + 1} {Labels[d]}: {result.Format()}");
            }
        }
        output.WriteLine($"medians of {options.Repeat} run(s):");
        output.WriteLine("     requests/s     MB/s  median-us   p99-us  daemon-cpu-us/req");
        for (int d = 0; d < 2; d++)
        {
            output.WriteLine(Row(Labels[d], Medians(results[d])));
        }
        var (a, b) = (Medians(results[0]), Medians(results[1]));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio B/A: requests/s {b.Rate / a.Rate:0.000}  median latency {b.Median / a.Median:0.000}  p99 latency {b.P99 / a.P99:0.000}  daemon cpu/req {b.Cpu / a.Cpu:0.000}"));
        return results.Any(list => list.Any(r => r.Errors > 0)) ? 1 : 0;
    }

    private static (double Rate, double Mbps, double Median, double P99, double Cpu) Medians(List<BenchResult> runs) => (
        Median(runs.Select(r => r.RequestsPerSecond)),
        Median(runs.Select(r => r.MegabytesPerSecond)),
        Median(runs.Select(r => r.MedianUs)),
        Median(runs.Select(r => r.P99Us)),
        Median(runs.Select(r => r.DaemonCpuUsPerRequest ?? double.NaN)));

    private static string Row(string label, (double Rate, double Mbps, double Median, double P99, double Cpu) m) =>
        string.Create(CultureInfo.InvariantCulture, $"{label}  {m.Rate,12:0} {m.Mbps,8:0.0} {m.Median,10:0.0} {m.P99,8:0.0} {m.Cpu,18:0.00}");

    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
