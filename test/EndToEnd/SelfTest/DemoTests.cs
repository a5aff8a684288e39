// `make demo` is part of the outside contract: this runs the demo program (the build `make demo`
// runs, built with these tests) against the daemons in out/ and checks that it ends by itself
// with status 0, one table line per device the guest used, and nothing left behind (its working
// directory, daemons, QEMU).
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.SelfTest;

[Collection(GuestCollection.Name)]
public sealed class DemoTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Demo_EveryBuiltDaemon_OneGuestUsesThemAndEverySummaryLinePrints()
    {
        string[] devices = ["rng", "blk", "fs", "vsock"];
        Rig.Require(devices);
        var paths = RigPaths.Discover();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/Release/net10.0/
        string demo = Path.Combine(paths.RepoRoot, "test", "EndToEnd", "Demo", "bin", configuration, "net10.0", "vhostd-demo.dll");
        var before = Directory.GetDirectories(Path.GetTempPath(), "vhostd-demo-*").ToHashSet();

        var start = new ProcessStartInfo("dotnet", [demo]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = paths.RepoRoot };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(TimeSpan.FromMinutes(5));
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        string text = await stdout + await stderr;
        output.WriteLine(text);

        Assert.True(exited, "the demo did not end within 5 minutes");
        Assert.True(process.ExitCode == 0, $"the demo exited with {process.ExitCode}");
        var table = text.Split('\n').SkipWhile(l => !l.StartsWith("device ", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Equal(devices, table.Select(l => l.Split(' ')[0]));
        Assert.DoesNotContain(table, l => l.Contains("FAILED", StringComparison.Ordinal));
        Assert.Contains(table, l => l.StartsWith("vsock", StringComparison.Ordinal) && l.Contains("checked byte for byte", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "vhostd-demo-*"), d => !before.Contains(d));
        Assert.DoesNotContain(Process.GetProcesses(), p => p.ProcessName.StartsWith("vhost-user-", StringComparison.Ordinal) && p.StartTime > process.StartTime);
    }
}
