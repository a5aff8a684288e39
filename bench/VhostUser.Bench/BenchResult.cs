// BenchResult.cs — the numbers of one run and how they are printed. MB is 10^6 bytes. Latency
// percentiles are nearest-rank over every request completed in the measured window.
using System.Globalization;

namespace VhostUser.Bench;

/// <summary>One run's measurements.</summary>
/// <param name="Workload">What ran (BenchOptions.Describe).</param>
/// <param name="Requests">Requests completed in the measured window.</param>
/// <param name="Bytes">Payload bytes they moved.</param>
/// <param name="Errors">Requests the device failed.</param>
/// <param name="Elapsed">Length of the measured window.</param>
/// <param name="LatencyUs">Round-trip times, sorted, in microseconds.</param>
/// <param name="BenchCpu">CPU time the bench used in the window.</param>
/// <param name="DaemonCpu">CPU time a spawned daemon used in the window.</param>
/// <param name="Collections">Garbage collections in the bench during the window (its driver side allocates per request).</param>
/// <param name="Remarks">Oddities the request format noticed.</param>
internal sealed record BenchResult(
    string Workload, long Requests, long Bytes, long Errors, TimeSpan Elapsed, double[] LatencyUs,
    TimeSpan? BenchCpu, TimeSpan? DaemonCpu, int Collections, string? Remarks)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public double MegabytesPerSecond => Bytes / 1e6 / Elapsed.TotalSeconds;

    public double MedianUs => Percentile(0.50);

    public double P99Us => Percentile(0.99);

    /// <summary>Daemon CPU microseconds per request (null unless the bench spawned it).</summary>
    public double? DaemonCpuUsPerRequest => PerRequest(DaemonCpu);

    /// <summary>Bench CPU microseconds per request.</summary>
    public double? BenchCpuUsPerRequest => PerRequest(BenchCpu);

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0..1) of the latencies.</summary>
    public double Percentile(double p) =>
        LatencyUs.Length == 0 ? double.NaN : LatencyUs[Math.Clamp((int)Math.Ceiling(p * LatencyUs.Length) - 1, 0, LatencyUs.Length - 1)];

    /// <summary>The result as report lines.</summary>
    public string Format()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"requests/s {RequestsPerSecond:0}  MB/s {MegabytesPerSecond:0.0}  latency-us mean {Mean():0.0} median {MedianUs:0.0} p99 {P99Us:0.0} p99.9 {Percentile(0.999):0.0}"
            + $"\n  requests {Requests} in {Elapsed.TotalSeconds:0.00} s  errors {Errors}  cpu-us/request bench {Show(BenchCpuUsPerRequest)} daemon {Show(DaemonCpuUsPerRequest)}  bench-gcs {Collections}");
        return Remarks is null ? text : $"{text}\n  note: {Remarks}";
    }

    private double Mean() => LatencyUs.Length == 0 ? double.NaN : LatencyUs.Average();

    private double? PerRequest(TimeSpan? cpu) => cpu is { } t && Requests > 0 ? t.TotalMicroseconds / Requests : null;

    private static string Show(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";
}
