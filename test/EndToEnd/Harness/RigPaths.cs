// Where the rig's pieces live: the repository root, the asset cache (.cache/, filled by
// rig/fetch-assets.sh), the guest kernel, QEMU and its firmware, the built daemons (out/), and
// the rig scripts. Also says what is missing and the command that would provide it.
namespace VhostUser.EndToEnd;

/// <summary>Locations of everything a guest run needs.</summary>
public sealed class RigPaths
{
    /// <summary>The command that installs QEMU and fetches the guest assets.</summary>
    public const string FetchAssetsCommand = "sudo test/EndToEnd/rig/fetch-assets.sh";

    private RigPaths(string repoRoot)
    {
        RepoRoot = repoRoot;
        Cache = Environment.GetEnvironmentVariable("VHOSTD_CACHE") is { Length: > 0 } cache
            ? cache
            : Path.Combine(repoRoot, ".cache");
        Out = Path.Combine(repoRoot, "out");
        RigDirectory = Path.Combine(repoRoot, "test", "EndToEnd", "rig");
        Qemu = FindOnPath("qemu-system-x86_64") ?? "/usr/bin/qemu-system-x86_64";
    }

    /// <summary>The repository root (holds Directory.Build.props and test/EndToEnd/rig).</summary>
    public string RepoRoot { get; }

    /// <summary>The asset cache, <c>.cache/</c> at the repository root unless VHOSTD_CACHE is set.</summary>
    public string Cache { get; }

    /// <summary>Where <c>make</c> leaves the daemons (<c>out/vhost-user-NAME</c>).</summary>
    public string Out { get; }

    /// <summary>test/EndToEnd/rig: fetch-assets.sh, build-initramfs.sh, guest/.</summary>
    public string RigDirectory { get; }

    /// <summary>The QEMU binary (qemu-system-x86_64 on PATH).</summary>
    public string Qemu { get; }

    /// <summary>The guest kernel unpacked by fetch-assets.sh.</summary>
    public string Kernel => Path.Combine(Cache, "guest", "vmlinuz");

    /// <summary>The qboot firmware used on microvm.</summary>
    public static string QbootRom => "/usr/share/qemu/qboot.rom";

    /// <summary>The initramfs builder script.</summary>
    public string BuildInitramfsScript => Path.Combine(RigDirectory, "build-initramfs.sh");

    /// <summary>Directory where guest runs leave their logs (git-ignored).</summary>
    public string LogDirectory => Path.Combine(RepoRoot, "TestResults", "guest-logs");

    /// <summary>The path of a daemon binary, <c>out/vhost-user-NAME</c>.</summary>
    public string Daemon(string name) => Path.Combine(Out, "vhost-user-" + name);

    /// <summary>Finds the repository root above the running assembly (or the working directory).</summary>
    public static RigPaths Discover()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props"))
                    && Directory.Exists(Path.Combine(dir.FullName, "test", "EndToEnd", "rig")))
                {
                    return new RigPaths(dir.FullName);
                }
            }
        }

        throw new InvalidOperationException(
            "cannot find the repository root (a directory with Directory.Build.props and test/EndToEnd/rig) above "
            + AppContext.BaseDirectory);
    }

    /// <summary>
    /// What is missing to boot a guest, with the command that provides it; null when nothing is.
    /// </summary>
    public string? MissingAssets()
    {
        var missing = new List<string>();
        if (!File.Exists(Qemu))
        {
            missing.Add("qemu-system-x86_64 (QEMU 10)");
        }

        if (!File.Exists(QbootRom))
        {
            missing.Add(QbootRom);
        }

        if (!File.Exists(Kernel))
        {
            missing.Add("guest kernel " + Kernel);
        }

        if (!File.Exists(Path.Combine(Cache, "guest", "busybox", "bin", "busybox")))
        {
            missing.Add("busybox-static in " + Path.Combine(Cache, "guest", "busybox"));
        }

        if (FindOnPath("cpio") is null)
        {
            missing.Add("cpio");
        }

        return missing.Count == 0
            ? null
            : $"guest test assets missing: {string.Join(", ", missing)}. To enable the guest tests run: {FetchAssetsCommand}";
    }

    /// <summary>What is missing among the named daemons, with how to build them; null when none is.</summary>
    public string? MissingDaemons(IEnumerable<string> names)
    {
        var missing = names.Where(n => !File.Exists(Daemon(n))).Select(n => "out/vhost-user-" + n).ToList();
        return missing.Count == 0
            ? null
            : $"daemon binary missing: {string.Join(", ", missing)}. Build the daemons with: make";
    }

    /// <summary>Looks a program up on PATH (and the sbin directories).</summary>
    public static string? FindOnPath(string program)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
