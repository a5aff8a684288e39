// vhost-user-fs served by out/vhost-user-fs to a stock guest's virtiofs driver (built into the
// Debian kernel), over PCI and MMIO: every file operation the issue lists, escape attempts, and
// the same script against Debian's virtiofsd 1.13 with the results compared line by line (the
// guest's lines and what the host sees in the share afterwards). Then four request queues, host
// changes under --cache never, and re-listen after QEMU went away.
using System.Text.RegularExpressions;

namespace VhostUser.EndToEnd.Tests.Fs;

[Collection(GuestCollection.Name)]
[Trait("Category", "Guest")]
public sealed partial class FsGuestTests(ITestOutputHelper output)
{
    private static readonly string[] FileChecks =
    [
        "mount", "create", "read", "append", "truncate", "rename", "rename_exchange", "rename_noreplace_refused", "rename_noreplace",
        "hardlink", "symlink", "mkdir", "rmdir", "rmdir_nonempty_refused", "unlink", "chmod", "chown", "utimes", "xattr", "fallocate",
        "fsync", "statfs", "tmpfile", "mmap_write", "mmap_read", "posix_lock", "host_file_visible", "big_dir_create", "big_dir_readdir",
        "big_dir_write_read", "escape_dotdot", "escape_host_abs_link", "escape_host_rel_link", "escape_symlink_root",
        "escape_symlink_relative", "escape_dotdot_passwd", "escape_rename_race", "cleanup_unmount",
    ];

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Fs_GuestFileOperations_PassAndMatchVirtiofsdLineForLine(Transport transport)
    {
        Rig.Require("fs");
        FsGuest.EnsureProbe();
        var ours = await RunScriptAsync(transport, "fs", guest => guest.Ours());
        GuestAssert.Passed(ours.Result, FileChecks);
        AssertHostSawTheGuest(ours.Manifest);

        if (!FsGuest.HasVirtiofsd)
        {
            Skip.If(!HostInfo.IsCI, $"virtiofsd not fetched ({FsGuest.VirtiofsdPath}): run sudo test/EndToEnd/rig/fetch-assets.sh for the comparison");
            Assert.Fail($"virtiofsd missing at {FsGuest.VirtiofsdPath} (CI=true)");
        }
        var peer = await RunScriptAsync(transport, "virtiofsd", guest => guest.Virtiofsd());
        string ourLines = Lines(ours.Result), peerLines = Lines(peer.Result);
        output.WriteLine($"ours:\n{ourLines}\n\nvirtiofsd:\n{peerLines}");
        // Line for line, except where virtiofsd lacks the feature: there ours must pass and it fail.
        foreach (string gap in VirtiofsdGaps.Keys)
        {
            Assert.Contains($"PASS {gap}", ourLines.Split('\n'));
            Assert.StartsWith($"FAIL {gap}: {VirtiofsdGaps[gap]}", peerLines.Split('\n').Single(l => l.Contains($" {gap}", StringComparison.Ordinal)), StringComparison.Ordinal);
        }
        Assert.Equal(WithoutGaps(peerLines), WithoutGaps(ourLines));
        Assert.Equal(WithoutGapFiles(peer.Manifest), WithoutGapFiles(ours.Manifest));
    }

    /// <summary>Checks virtiofsd 1.13.2 fails, and the start of its failure line (what the guest saw).</summary>
    private static readonly Dictionary<string, string> VirtiofsdGaps = new()
    {
        ["tmpfile"] = "exit 1: open(O_TMPFILE): Operation not supported", // virtiofsd answers FUSE_TMPFILE with EOPNOTSUPP
    };

    private static string WithoutGaps(string lines) =>
        string.Join("\n", lines.Split('\n').Where(l => !VirtiofsdGaps.Keys.Any(g => l == $"PASS {g}" || l.StartsWith($"FAIL {g}:", StringComparison.Ordinal))));

    /// <summary>The files only a gap check makes (tmpfile links "tmpnamed").</summary>
    private static string WithoutGapFiles(string manifest) =>
        string.Join("\n", manifest.Split('\n').Where(l => !l.StartsWith("tmpnamed ", StringComparison.Ordinal)));

    [SkippableFact]
    public async Task Fs_FourRequestQueues_EveryQueueCarriesRequests()
    {
        Rig.Require("fs");
        using var guest = new FsGuest();
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await Rig.StartDaemonAsync(guest.Ours("--log-level", "info"));
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "fs-4queues",
            Cpus = 4,
            RunningDaemons = { daemon },
            Devices = { FsGuest.Device("fs", "num-request-queues=4") },
            Script = $"""
                check mount mount -t virtiofs {FsGuest.Tag} /mnt
                for cpu in 0 1 2 3; do
                    taskset -c $cpu sh -c "mkdir /mnt/c$cpu; i=0; while [ \$i -lt 100 ]; do echo \$i > /mnt/c$cpu/f\$i; cat /mnt/c$cpu/f\$i > /dev/null; i=\$((i+1)); done" &
                done
                wait
                check files sh -c '[ "$(ls /mnt/c0 /mnt/c1 /mnt/c2 /mnt/c3 | grep -c ^f)" = 400 ]'
                """,
        }, output);
        GuestAssert.Passed(result, "mount", "files");
        await WaitForAsync(() => SessionCounts(daemon.Log) is { } c && c[1] > 0);
        var counts = SessionCounts(daemon.Log)!;
        output.WriteLine("requests per queue: " + string.Join(' ', counts.Select((n, i) => $"q{i}={n}")));
        for (int q = 1; q <= 4; q++)
        {
            Assert.True(counts[q] > 50, $"request queue {q} carried {counts[q]} requests\n{daemon.Log}");
        }
    }

    [SkippableFact]
    public async Task Fs_CacheNever_HostChangesShowInTheGuestAtOnce()
    {
        Rig.Require("fs");
        using var guest = new FsGuest();
        string file = Path.Combine(guest.SharedDir, "changing");
        File.WriteAllText(file, "before\n");
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "fs-cache-never",
            Daemons = { guest.Ours("--cache", "never") },
            Devices = { FsGuest.Device("fs") },
            Script = $"""
                check mount mount -t virtiofs {FsGuest.Tag} /mnt
                check before sh -c '[ "$(cat /mnt/changing)" = before ]'
                info please-change now
                n=0; while [ "$(cat /mnt/changing)" != after ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
                check after sh -c '[ "$(cat /mnt/changing)" = after ] && [ -e /mnt/new-on-host ]'
                check attrs_after sh -c '[ "$(stat -c %a /mnt/changing)" = 600 ]'
                """,
            OnSerialLine = (_, line) =>
            {
                if (line.Contains("VHOSTD-INFO please-change", StringComparison.Ordinal))
                {
                    File.WriteAllText(file, "after\n");
                    if (OperatingSystem.IsLinux())
                    {
                        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    }
                    File.WriteAllText(Path.Combine(guest.SharedDir, "new-on-host"), "");
                }
                return Task.CompletedTask;
            },
        }, output);
        GuestAssert.Passed(result, "mount", "before", "after", "attrs_after");
    }

    [SkippableFact]
    public async Task Fs_SecondQemuOnSameSocket_IsServed()
    {
        Rig.Require("fs");
        using var guest = new FsGuest();
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await Rig.StartDaemonAsync(guest.Ours());
        for (var run = 1; run <= 2; run++)
        {
            await WaitForAsync(() => daemon.IsListening() || daemon.HasExited);
            Assert.True(daemon.IsListening(), $"before QEMU run {run} the daemon is not listening (exited: {daemon.HasExited})\n{daemon.Log}");
            var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
            {
                Name = $"fs-relisten-{run}",
                RunningDaemons = { daemon },
                Devices = { FsGuest.Device("fs") },
                Script = $"""
                    check mount mount -t virtiofs {FsGuest.Tag} /mnt
                    check write sh -c 'echo run{run} > /mnt/run{run}'
                    check sees_earlier_runs sh -c '[ "$(ls /mnt | grep -c ^run)" = {run} ]'
                    """,
            }, output);
            GuestAssert.Passed(result, "mount", "write", "sees_earlier_runs");
            Assert.False(daemon.HasExited, $"the daemon exited ({daemon.ExitCode}) after QEMU run {run}\n{daemon.Log}");
        }
    }

    private async Task<(GuestResult Result, string Manifest)> RunScriptAsync(Transport transport, string daemonId, Func<FsGuest, DaemonSpec> daemon)
    {
        using var guest = new FsGuest();
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = $"fs-ops-{daemonId}",
            Timeout = TimeSpan.FromSeconds(420),
            Daemons = { daemon(guest) },
            Devices = { FsGuest.Device(daemonId) },
            Tools = { "fsprobe" },
            Script = guest.Script(),
        }, output);
        AssertNothingEscaped(guest.Parent);
        return (result, guest.Manifest());
    }

    /// <summary>The guest's check lines (the rig's own INFO lines carry boot timings and are left out).</summary>
    private static string Lines(GuestResult result) => string.Join("\n", result.Checks.Select(c => c.ToString()));

    private static void AssertHostSawTheGuest(string manifest)
    {
        string[] expected =
        [
            "f2 regular file 640 1000:1001 3 2 ", "hard regular file 640 1000:1001 3 2 ", "soft symbolic link", "rb regular file 644 0:0 2 1",
            "rc regular file 644 0:0 2 1", "fa regular file 644 0:0 1048576 1", "tmpnamed regular file 644 0:0 8 1", "mm regular file 644 0:0 8192 1",
            "d1 directory", "big/* 10000 files", "blob regular file 644 0:0 4194304 1", "racedir directory",
        ];
        foreach (string line in expected)
        {
            Assert.True(manifest.Contains(line, StringComparison.Ordinal), $"the host does not show '{line}':\n{manifest}");
        }
        Assert.DoesNotContain("\nf1 ", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("ra regular", manifest, StringComparison.Ordinal);
    }

    private static void AssertNothingEscaped(string parent)
    {
        // The guest wrote race markers into whatever /mnt/racedir was; none may exist on the host outside the share.
        foreach (string dir in new[] { "/", parent, Path.GetTempPath() })
        {
            Assert.Empty(Directory.GetFiles(dir, "race-marker-*"));
        }
    }

    private static long[]? SessionCounts(string log)
    {
        // The last session: QEMU resets the device once or twice before the guest driver starts.
        var match = SessionEnded().Matches(log).LastOrDefault();
        return match is not null ? match.Groups[1].Value.Split(' ').Select(p => long.Parse(p.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray() : null;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"session ended: ((?:q\d+=\d+ ?)+)")]
    private static partial Regex SessionEnded();
}
