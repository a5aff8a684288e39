// What --sandbox takes away from the running out/vhost-user-fs, read from /proc/PID/task/TID of
// the spawned daemon (no guest needed: the queue workers exist once the daemon listens):
//   * the main thread and every queue worker: effective = permitted = the file-server set
//     (virtiofsd's, plus dac_read_search when inodes are file handles), empty bounding,
//     inheritable and ambient sets; their root is the shared directory; with namespace, their
//     mount, network and IPC namespaces are new;
//   * every thread, the runtime's early ones included: no_new_privs and the seccomp filter.
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
    }

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
