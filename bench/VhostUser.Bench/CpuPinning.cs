// CpuPinning.cs — pins the bench to one CPU by running itself again under `taskset -c CPU`, so
// every thread of the run (the runtime's included) starts on that CPU; an environment variable
// marks the pinned child. Setting the affinity from inside would miss threads already started.
using System.Diagnostics;
using System.Globalization;

namespace VhostUser.Bench;

/// <summary>Runs the bench pinned to a CPU.</summary>
internal static class CpuPinning
{
    private const string PinnedVariable = "VHOST_USER_BENCH_PINNED_CPU";

    /// <summary>
    /// Returns null when the bench should go on in this process (no pinning asked, or this is the
    /// pinned child); otherwise runs the pinned child with <paramref name="args"/> and returns its
    /// exit code.
    /// </summary>
    public static int? RunPinned(int? cpu, string[] args)
    {
        string? value = cpu?.ToString(CultureInfo.InvariantCulture);
        if (value is null || Environment.GetEnvironmentVariable(PinnedVariable) == value)
        {
            return null;
        }
        var start = new ProcessStartInfo("taskset") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(value);
        string self = Environment.ProcessPath ?? throw new BenchFailedException("cannot find the bench's own executable to pin it");
        start.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // run as `dotnet vhost-user-bench.dll`
        }
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment[PinnedVariable] = value;
        using var child = Process.Start(start) ?? throw new BenchFailedException("cannot start taskset");
        child.WaitForExit();
        return child.ExitCode;
    }
}
