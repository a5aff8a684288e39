// What every built daemon costs while it waits for its first front end: resident memory (the
// project's budget is 20 MiB idle) read from /proc/PID/status once it listens. The time to
// listen is written to the test output only: a timed assertion on this shared 2-core machine
// would fail on load, not on a regression (docs/performance.md has the measured start-up times).
using System.Diagnostics;
using System.Globalization;

namespace VhostUser.EndToEnd.Tests.Daemons;

public sealed class DaemonFootprintTests(ITestOutputHelper output) : IDisposable
{
    private const long IdleBudgetKiB = 20 * 1024;

    private readonly string _directory = Directory.CreateTempSubdirectory("vhostd-footprint-").FullName;

    public static TheoryData<string, string[]> Daemons() => new()
    {
        { "rng", [] },
        { "blk", ["--blk-file", "{dir}/disk.img", "--num-queues", "4"] },
        { "blk", ["--null", "1G", "--queue-size", "1024"] },
        { "fs", ["--shared-dir", "{dir}/share", "--sandbox", "none", "--num-request-queues", "4"] },
        { "vsock", ["--guest-cid", "3", "--uds-path", "{dir}/vsock.uds"] },
    };

    [SkippableTheory]
    [MemberData(nameof(Daemons))]
    public async Task Daemon_Listening_IdlesWithinTwentyMiB(string name, string[] options)
    {
        if (RigPaths.Discover().MissingDaemons([name]) is { } missing)
        {
            Skip.If(!HostInfo.IsCI, missing);
            Assert.Fail(missing);
        }
        Directory.CreateDirectory(Path.Combine(_directory, "share"));
        using (var image = File.Create(Path.Combine(_directory, "disk.img")))
        {
            image.SetLength(64 << 20);
        }
        string[] arguments = [.. options.Select(o => o.Replace("{dir}", _directory, StringComparison.Ordinal))];

        var clock = Stopwatch.StartNew();
        await using var daemon = await DaemonProcess.StartAsync(new DaemonSpec(name, arguments), _directory);
        output.WriteLine($"vhost-user-{name} {string.Join(' ', arguments)}: listening after {clock.ElapsedMilliseconds} ms (test host's view, load included)");
        await Task.Delay(500); // let start-up threads settle (the logger's first write, the GC's first pass)

        long rss = StatusKiB(daemon.ProcessId, "VmRSS");
        output.WriteLine($"VmRSS {rss} KiB, RssAnon {StatusKiB(daemon.ProcessId, "RssAnon")} KiB");
        Assert.True(rss <= IdleBudgetKiB, $"vhost-user-{name} idles at {rss} KiB resident, over the {IdleBudgetKiB} KiB budget");
        Assert.False(daemon.HasExited, daemon.Log);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static long StatusKiB(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture); // "VmRSS:   9528 kB"
    }
}
