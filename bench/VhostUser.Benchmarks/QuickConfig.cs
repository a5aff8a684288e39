// QuickConfig.cs — the default BenchmarkDotNet configuration: one job with few, short iterations,
// so a full run takes a couple of minutes on a 2-core machine, and tiered compilation off in the
// benchmark processes (DOTNET_TieredCompilation=0): the daemons ship as Native AOT — compiled once,
// fully optimized, no tiering, no dynamic PGO — and with tiering off the JIT compiles that way from
// the first call, so no case is measured while still at tier 0 (the ring benchmarks run one
// invocation per iteration and would otherwise see tier-0 code for their first iterations).
//
// The job runs out of process (BenchmarkDotNet builds a boilerplate project first, ~1 min): the
// in-process toolchain reports a few bytes per operation that its own harness allocates around
// an [IterationSetup] invocation, which would hide whether the device path allocates. Jobs given
// on the command line (--job short, --inProcess, ...) replace this one; add
// --envVars DOTNET_TieredCompilation:0 to them for comparable numbers.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace VhostUser.Benchmarks;

/// <summary>The default configuration of the micro benchmarks.</summary>
public static class QuickConfig
{
    /// <summary>
    /// The quick job plus the memory diagnoser, unless <paramref name="args"/> names a job of its
    /// own (then only the diagnoser is added).
    /// </summary>
    public static IConfig Create(string[] args)
    {
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default);
        if (args.Contains("--job") || args.Contains("-j"))
        {
            return config;
        }
        var quick = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(25)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithEnvironmentVariable("DOTNET_TieredCompilation", "0")
            .WithId("quick");
        return config.AddJob(quick);
    }
}
