// What --sandbox takes away from the running out/vhost-user-fs, read from /proc/PID/task/TID of
// the spawned daemon (no guest needed: the queue workers exist once the daemon listens):
//   * the main thread and every queue worker: effective = permitted = the file-server set
//     (virtiofsd's, plus dac_read_search when inodes are file handles), empty bounding,
//     inheritable and ambient sets; their root is the shared directory; with namespace, their
//     mount, network and IPC namespaces are new;
//   * every thread, the runtime's early ones included: no_new_privs and the seccomp filter;
//   * every fd the daemon holds on the share is on the daemon's own mount of it (with namespace:
//     the root of its own namespace, from /proc/PID/fdinfo mnt_id against /proc/PID/mountinfo),
//     and none is on the host's /proc (its /proc/self/fd is a proc of its own, or a detached
//     copy), so ".." from any of them ends inside the sandbox;
//   * a sandbox step the kernel refuses ends the daemon with exit 1 and one line saying which.
using System.Diagnostics;
using System.Globalization;

namespace VhostUser.EndToEnd.Tests.Fs;

public sealed class FsSandboxTests(ITestOutputHelper output)
{
    /// <summary>chown, dac_override, fowner, fsetid, setgid, setuid, mknod, setfcap.</summary>
    private const ulong FileServerCaps = 0x880000db;

    /// <summary>CAP_DAC_READ_SEARCH, kept only for open_by_handle_at.</summary>
    private const ulong DacReadSearch = 1 << 2;

    [SkippableTheory]
    [InlineData("namespace")]
    [InlineData("chroot")]
    public async Task Sandbox_RunningDaemon_DropsCapabilitiesAndConfinesEveryWorker(string mode)
    {
        Skip.If(Environment.UserName != "root", "the sandbox needs root (unshare, pivot_root, capabilities)");
        if (RigPaths.Discover().MissingDaemons(["fs"]) is { } missing)
        {
            Skip.If(!HostInfo.IsCI, missing);
            Assert.Fail(missing);
        }
        using var guest = new FsGuest();
        await using var daemon = await DaemonProcess.StartAsync(guest.Ours("--sandbox", mode));
        int pid = daemon.ProcessId;
        var threads = Directory.GetDirectories($"/proc/{pid}/task").Select(t => new TaskState(t)).ToList();
        output.WriteLine(string.Join("\n", threads));
        var served = threads.Where(t => t.Tid == pid || t.Name.StartsWith("vhost-worker", StringComparison.Ordinal)).ToList();
        Assert.True(served.Count >= 2, $"no queue workers among {threads.Count} threads");

        foreach (var t in served)
        {
            Assert.True(t.Caps("CapEff") is FileServerCaps or (FileServerCaps | DacReadSearch), $"{t}: effective set");
            Assert.Equal(t.Caps("CapEff"), t.Caps("CapPrm"));
            Assert.Equal((0UL, 0UL, 0UL), (t.Caps("CapBnd"), t.Caps("CapInh"), t.Caps("CapAmb")));
            var root = Directory.GetFileSystemEntries(Path.Combine(t.Path, "root")).Select(Path.GetFileName).ToList();
            Assert.Contains("host-file", root); // the share, planted by FsGuest
            Assert.DoesNotContain("proc", root);
            foreach (string ns in new[] { "mnt", "net", "ipc" })
            {
                bool isNew = t.Namespace(ns) != new FileInfo($"/proc/self/ns/{ns}").LinkTarget;
                Assert.True(isNew == (mode == "namespace"), $"{t}: {ns} namespace {(isNew ? "new" : "the host's")}");
            }
        }
        Assert.All(threads, t => Assert.Equal(("1", "2"), (t.Status("NoNewPrivs"), t.Status("Seccomp"))));
        for (int i = 0; i < 50 && !daemon.Log.Contains("sandbox: capabilities 0x", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100); // the console logger writes from a thread of its own
        }
        Assert.Contains("sandbox: capabilities 0x", daemon.Log, StringComparison.Ordinal);
        AssertFdsAreInsideTheSandbox(pid, guest.SharedDir, mode);
    }

    [SkippableTheory]
    [InlineData("namespace", "sys_admin", "unshare(mount, net, ipc)")]
    [InlineData("chroot", "sys_admin,-sys_chroot", "open_tree(/proc/self/fd")]
    public async Task Sandbox_StepRefused_ExitsWithOneLineAndNoSocket(string mode, string dropped, string step)
    {
        Skip.If(Environment.UserName != "root", "the sandbox needs root");
        Skip.If(RigPaths.FindOnPath("setpriv") is null, "setpriv (util-linux) not installed");
        if (RigPaths.Discover().MissingDaemons(["fs"]) is { } missing)
        {
            Skip.If(!HostInfo.IsCI, missing);
            Assert.Fail(missing);
        }
        using var guest = new FsGuest();
        string socket = Path.Combine(guest.Parent, "fs.sock");
        // Root without the capability the step needs, as in an unprivileged container.
        var start = new ProcessStartInfo("setpriv", ["--bounding-set", "-" + dropped, "--inh-caps", "-" + dropped, "--",
            RigPaths.Discover().Daemon("fs"), "--socket-path", socket, "--shared-dir", guest.SharedDir, "--sandbox", mode])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true); // it went on serving without the sandbox
            }
        }
        string[] lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine(string.Join("\n", lines));
        Assert.Equal(1, process.ExitCode);
        string line = Assert.Single(lines);
        Assert.StartsWith($"vhost-user-fs: error: sandbox: {step}", line, StringComparison.Ordinal);
        Assert.Contains("--sandbox none", line, StringComparison.Ordinal);
        Assert.False(File.Exists(socket), "the socket of a daemon that never served is left behind");
    }

    /// <summary>
    /// The daemon's fds on the share are on its own mount of it; none is on the host's /proc.
    /// Before the share was opened inside the sandbox they were on the host's mounts, where ".."
    /// leads to the host's root.
    /// </summary>
    private void AssertFdsAreInsideTheSandbox(int pid, string sharedDir, string mode)
    {
        var fds = OpenFiles(pid);
        var daemonMounts = Mounts($"/proc/{pid}/mountinfo");
        var hostMounts = Mounts("/proc/self/mountinfo");
        string share = DeviceAndInode(sharedDir);
        var onShare = fds.Where(f => f.Identity == share).ToList();
        output.WriteLine($"fds on the share: {string.Join(", ", onShare)}; the daemon's mounts: {string.Join(", ", daemonMounts)}");
        Assert.True(onShare.Count >= 2, $"the daemon holds {onShare.Count} fds on the share"); // the root inode and the directory for syncfs
        foreach (var fd in onShare)
        {
            if (mode == "namespace")
            {
                Assert.True(daemonMounts.TryGetValue(fd.MountId, out string? point) && point == "/",
                    $"fd {fd.Number}: mount {fd.MountId} is not the root of the daemon's namespace");
                Assert.False(hostMounts.ContainsKey(fd.MountId), $"fd {fd.Number}: on the host's mount {fd.MountId}");
            }
            else
            {
                Assert.True(hostMounts.ContainsKey(fd.MountId), $"fd {fd.Number}: mount {fd.MountId} is not in the (shared) namespace");
            }
        }
        var hostProc = hostMounts.Where(m => m.Value == "/proc").Select(m => m.Key).ToHashSet();
        Assert.DoesNotContain(fds, f => hostProc.Contains(f.MountId));
    }

    private static List<OpenFile> OpenFiles(int pid)
    {
        var fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture)).ToList();
        var identities = StatLinks(fds.Select(n => $"/proc/{pid}/fd/{n}"));
        var files = new List<OpenFile>();
        foreach (int n in fds)
        {
            string? mountLine = File.ReadLines($"/proc/{pid}/fdinfo/{n}").FirstOrDefault(l => l.StartsWith("mnt_id:", StringComparison.Ordinal));
            if (mountLine is not null && identities.TryGetValue($"/proc/{pid}/fd/{n}", out string? identity))
            {
                files.Add(new OpenFile(n, int.Parse(mountLine[7..].Trim(), CultureInfo.InvariantCulture), identity));
            }
        }
        return files;
    }

    /// <summary>Mount id → mount point, from a mountinfo file.</summary>
    private static Dictionary<int, string> Mounts(string mountinfo) =>
        File.ReadAllLines(mountinfo).Select(l => l.Split(' ')).ToDictionary(f => int.Parse(f[0], CultureInfo.InvariantCulture), f => f[4]);

    private static string DeviceAndInode(string path) => StatLinks([path])[path];

    /// <summary>"dev:ino" of what each path leads to (stat -L, through /proc magic links too).</summary>
    private static Dictionary<string, string> StatLinks(IEnumerable<string> paths)
    {
        var start = new ProcessStartInfo("stat", ["-L", "-c", "%n %d:%i", .. paths]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var stat = Process.Start(start)!;
        string text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
    }

    private sealed record OpenFile(int Number, int MountId, string Identity);

    /// <summary>One thread's /proc/PID/task/TID: its status fields and namespaces.</summary>
    private sealed class TaskState(string path)
    {
        private readonly Dictionary<string, string> _status = File.ReadAllLines(System.IO.Path.Combine(path, "status"))
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());

        public string Path { get; } = path;

        public int Tid { get; } = int.Parse(System.IO.Path.GetFileName(path), CultureInfo.InvariantCulture);

        public string Name => _status["Name"];

        public string Status(string field) => _status[field];

        public ulong Caps(string field) => ulong.Parse(_status[field], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        public string? Namespace(string ns) => new FileInfo(System.IO.Path.Combine(Path, "ns", ns)).LinkTarget; // "mnt:[4026531832]"

        public override string ToString() =>
            $"{Tid} {Name}: CapEff {Status("CapEff")} CapPrm {Status("CapPrm")} CapBnd {Status("CapBnd")} NoNewPrivs {Status("NoNewPrivs")} Seccomp {Status("Seccomp")} mnt {Namespace("mnt")}";
    }
}
