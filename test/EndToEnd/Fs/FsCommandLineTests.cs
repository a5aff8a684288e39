// The spawned out/vhost-user-fs as libvirt drives it (no guest): --print-capabilities offers
// "separate-options", libvirt's separate-options command line starts a serving daemon, and
// --rlimit-nofile N sets RLIMIT_NOFILE to N (read back from /proc/PID/limits) or, above
// fs.nr_open, is refused with one line and exit 2; virtiofsd's legacy command line (-o source=…,
// -f, --socket-group) starts a serving daemon whose socket its group may use; a legacy item we do
// not serve is refused the same way.
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Fs;

public sealed class FsCommandLineTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task PrintCapabilities_OffersSeparateOptions()
    {
        var (code, stdout, _) = await RunAsync("--print-capabilities");
        Assert.Equal(0, code);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Contains("separate-options", json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
    }

    [SkippableFact]
    public async Task LibvirtCommandLine_ServesWithTheRequestedFileLimit()
    {
        using var guest = new FsGuest();
        string sandbox = Environment.UserName == "root" ? "chroot" : "none";
        await using var daemon = await DaemonProcess.StartAsync(new DaemonSpec("fs", ["--shared-dir", guest.SharedDir, "--cache", "never", "--sandbox", sandbox,
            "--xattr", "--thread-pool-size=2", "--rlimit-nofile=4321", "--log-level", "debug"]));
        string limits = await File.ReadAllTextAsync($"/proc/{daemon.ProcessId}/limits");
        string line = limits.Split('\n').Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        output.WriteLine(line);
        Assert.Equal(["Max", "open", "files", "4321", "4321", "files"], line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [SkippableFact]
    public async Task RlimitNofile_AboveNrOpen_IsRefusedWithOneLine()
    {
        using var guest = new FsGuest();
        ulong nrOpen = ulong.Parse((await File.ReadAllTextAsync("/proc/sys/fs/nr_open")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var (code, _, stderr) = await RunAsync("--socket-path", Path.Combine(guest.Parent, "fs.sock"), "--shared-dir", guest.SharedDir,
            "--sandbox", "none", "--rlimit-nofile", (nrOpen + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, code);
        Assert.StartsWith("vhost-user-fs: error: --rlimit-nofile", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task LegacyCommandLine_ServesWithTheSocketGivenToTheGroup()
    {
        Skip.If(Environment.UserName != "root", "chown to another group needs root");
        using var guest = new FsGuest();
        await using var daemon = await DaemonProcess.StartAsync(new DaemonSpec("fs", ["-o", "source=" + guest.SharedDir + ",cache=always", "-o", "no_posix_lock",
            "-f", "--sandbox", "chroot", "--socket-group", "daemon", "--syslog"]));
        Assert.True(daemon.IsListening(), daemon.Log);
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%g %a", daemon.SocketPath]) { RedirectStandardOutput = true })!;
        string groupAndMode = (await stat.StandardOutput.ReadToEndAsync()).Trim();
        Assert.Equal("1 770", groupAndMode); // "daemon" is gid 1 on Debian; the group may connect
    }

    [SkippableFact]
    public async Task LegacyOption_NotServed_IsRefusedWithOneLine()
    {
        using var guest = new FsGuest();
        var (code, _, stderr) = await RunAsync("--socket-path", Path.Combine(guest.Parent, "fs.sock"), "-o", "source=" + guest.SharedDir + ",flock");
        Assert.Equal(2, code);
        Assert.StartsWith("vhost-user-fs: error: -o flock", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var paths = RigPaths.Discover();
        if (paths.MissingDaemons(["fs"]) is { } missing)
        {
            Skip.If(!HostInfo.IsCI, missing);
            Assert.Fail(missing);
        }
        using var process = Process.Start(new ProcessStartInfo(paths.Daemon("fs"), args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
