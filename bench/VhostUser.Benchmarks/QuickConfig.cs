// QuickConfig.cs — the default BenchmarkDotNet configuration: one in-process job with few, short
// iterations, so a full run takes minutes on a 2-core machine and needs no generated project to
// be built. BenchmarkDotNet's own jobs (--job short|medium|long, --runtimes, ...) replace it when
// given on the command line; those run out of process and build a boilerplate project first.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace VhostUser.Benchmarks;

/// <summary>The default configuration of the micro benchmarks.</summary>
public static class QuickConfig
{
    /// <summary>
    /// The quick in-process job plus the memory diagnoser, unless <paramref name="args"/> names
    /// a job of its own (then only the diagnoser is added).
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
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(25)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithId("quick");
        return config.AddJob(quick);
    }
}
