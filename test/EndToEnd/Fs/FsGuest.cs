// FsGuest.cs — what the virtio-fs guest tests share: the guest helper (fsprobe.c, built with the
// host's gcc and put on PATH so the initramfs builder copies it in like any host tool), a fresh
// shared directory with an outside secret beside it, the two daemons (ours and Debian's
// virtiofsd, fetched by fetch-virtiofsd.sh), the guest script, and a manifest of what the host
// sees in the shared directory afterwards.
using System.Diagnostics;
using System.Security.Cryptography;

namespace VhostUser.EndToEnd.Tests.Fs;

internal sealed class FsGuest : IDisposable
{
    public const string Tag = "vfs";
    public const string Secret = "TOPSECRET-7f3a";

    public FsGuest()
    {
        Parent = Directory.CreateTempSubdirectory("vhostd-fs-e2e-").FullName;
        SharedDir = Path.Combine(Parent, "share");
        Directory.CreateDirectory(SharedDir);
        SecretName = "vhostd-secret";
        File.WriteAllText(Path.Combine(Parent, SecretName), Secret + "\n");
        // Traps planted on the host: links inside the share that point outside it.
        File.CreateSymbolicLink(Path.Combine(SharedDir, "host-abs-link"), Parent);
        File.CreateSymbolicLink(Path.Combine(SharedDir, "host-rel-link"), "..");
        File.WriteAllText(Path.Combine(SharedDir, "host-file"), "from the host\n");
    }

    /// <summary>Holds the share and the secret (never shared).</summary>
    public string Parent { get; }

    public string SharedDir { get; }

    public string SecretName { get; }

    public static string VirtiofsdPath => Path.Combine(RigPaths.Discover().Cache, "virtiofsd", "virtiofsd");

    public static bool HasVirtiofsd => File.Exists(VirtiofsdPath);

    /// <summary>Builds fsprobe (when its source is newer) and puts it on PATH.</summary>
    public static void EnsureProbe() => Rig.BuildTool("fsprobe", "Fs/fsprobe.c", isStatic: false);

    public DaemonSpec Ours(params string[] extra) => new("fs", ["--shared-dir", SharedDir, "--xattr", .. extra]);

    public DaemonSpec Virtiofsd(params string[] extra) =>
        DaemonSpec.External("virtiofsd", VirtiofsdPath, ["--socket-path", DaemonSpec.SocketPlaceholder, "--shared-dir", SharedDir, "--xattr", .. extra]);

    public static GuestDevice Device(string daemonId, string? properties = null) =>
        GuestDevice.VhostUser(daemonId, VhostUserDeviceType.Fs, $"tag={Tag}" + (properties is null ? "" : "," + properties));

    /// <summary>Every file under the share as "path type mode uid:gid size nlink content-hash|link-target xattrs", sorted.</summary>
    public string Manifest()
    {
        var lines = new List<string>();
        Walk(new DirectoryInfo(SharedDir), lines);
        lines.Sort(StringComparer.Ordinal);
        return string.Join("\n", lines);
    }

    /// <summary>Lists a directory without ever following a symlink (the guest planted links to "/").</summary>
    private void Walk(DirectoryInfo directory, List<string> lines)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            string relative = Path.GetRelativePath(SharedDir, entry.FullName);
            if (relative.StartsWith("racedir/race-marker-", StringComparison.Ordinal))
            {
                continue; // which markers land inside depends on the rename race's timing
            }
            if (relative == "big")
            {
                lines.Add($"big/* {Directory.GetFiles(entry.FullName).Length} files"); // 10 000 empty files: counted
                continue;
            }
            if (entry.LinkTarget is { } target)
            {
                lines.Add($"{relative} {Stat(entry.FullName)} {target.Replace(Parent, "$PARENT", StringComparison.Ordinal)}"); // each run has its own parent
                continue;
            }
            lines.Add($"{relative} {Stat(entry.FullName)} {(entry is FileInfo ? Hash(entry.FullName) : "dir")}");
            if (entry is DirectoryInfo child)
            {
                Walk(child, lines);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Stat(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%F %a %u:%g %s %h", path]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return text.Replace("regular empty file", "regular file", StringComparison.Ordinal);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16];

    /// <summary>
    /// The guest script: every file operation the issue lists, with one check each, then escape
    /// attempts. Output is deterministic (no inode numbers or times), so two daemons can be
    /// compared line by line.
    /// </summary>
    public string Script(int bigDirectoryEntries = 10000) => $$"""
        check mount mount -t virtiofs {{Tag}} /mnt
        check create sh -c 'echo hello > /mnt/f1'
        check read sh -c '[ "$(cat /mnt/f1)" = hello ]'
        check append sh -c 'echo world >> /mnt/f1 && [ "$(cat /mnt/f1 | tr "\n" .)" = hello.world. ]'
        check truncate sh -c 'truncate -s 3 /mnt/f1 && [ "$(cat /mnt/f1)" = hel ]'
        check rename sh -c 'mv /mnt/f1 /mnt/f2 && [ ! -e /mnt/f1 ] && [ "$(cat /mnt/f2)" = hel ]'
        echo A > /mnt/ra; echo B > /mnt/rb
        check rename_exchange sh -c 'fsprobe rename2 /mnt/ra /mnt/rb exchange && [ "$(cat /mnt/ra)" = B ] && [ "$(cat /mnt/rb)" = A ]'
        check rename_noreplace_refused sh -c '! fsprobe rename2 /mnt/ra /mnt/rb noreplace && [ "$(cat /mnt/rb)" = A ]'
        check rename_noreplace sh -c 'fsprobe rename2 /mnt/ra /mnt/rc noreplace && [ "$(cat /mnt/rc)" = B ]'
        check hardlink sh -c 'ln /mnt/f2 /mnt/hard && [ "$(stat -c %h /mnt/f2)" = 2 ] && [ "$(cat /mnt/hard)" = hel ]'
        check symlink sh -c 'ln -s f2 /mnt/soft && [ "$(readlink /mnt/soft)" = f2 ] && [ "$(cat /mnt/soft)" = hel ]'
        check mkdir sh -c 'mkdir -p /mnt/d1/d2 && [ -d /mnt/d1/d2 ]'
        check rmdir sh -c 'rmdir /mnt/d1/d2 && [ ! -e /mnt/d1/d2 ]'
        check rmdir_nonempty_refused sh -c 'touch /mnt/d1/x && ! rmdir /mnt/d1 2>/dev/null'
        check unlink sh -c 'rm /mnt/d1/x && [ ! -e /mnt/d1/x ]'
        check chmod sh -c 'chmod 640 /mnt/f2 && [ "$(stat -c %a /mnt/f2)" = 640 ]'
        check chown sh -c 'chown 1000:1001 /mnt/f2 && [ "$(stat -c %u:%g /mnt/f2)" = 1000:1001 ]'
        check utimes sh -c 'touch -m -d "2001-02-03 04:05:06" /mnt/f2 && [ "$(stat -c %Y /mnt/f2)" = 981173106 ]'
        check xattr fsprobe xattr /mnt/f2 user.vhostd value1
        check fallocate sh -c 'fsprobe falloc /mnt/fa 1048576 && [ "$(stat -c %s /mnt/fa)" = 1048576 ]'
        check fsync sh -c 'echo sync > /mnt/fs && fsprobe fsync /mnt/fs'
        check statfs sh -c '[ "$(stat -f -c %b /mnt)" -gt 0 ]'
        check tmpfile sh -c 'fsprobe tmpfile /mnt tmpnamed && [ "$(cat /mnt/tmpnamed)" = tmpfile ]'
        check mmap_write fsprobe mmapwrite /mnt/mm
        check mmap_read fsprobe mmapread /mnt/mm
        check posix_lock fsprobe lock /mnt/lockfile
        check host_file_visible sh -c '[ "$(cat /mnt/host-file)" = "from the host" ]'
        check big_dir_create sh -c 'mkdir /mnt/big && fsprobe mkfiles /mnt/big {{bigDirectoryEntries}}'
        check big_dir_readdir sh -c '[ "$(fsprobe count /mnt/big)" = {{bigDirectoryEntries}} ] && [ "$(ls /mnt/big | wc -l)" = {{bigDirectoryEntries}} ]'
        check big_dir_write_read sh -c 'dd if=/dev/zero of=/mnt/blob bs=1M count=4 2>/dev/null && [ "$(wc -c < /mnt/blob)" = 4194304 ]'
        # Escapes: the secret lives beside the share on the host; no path from the guest reaches it.
        check escape_dotdot sh -c '! cat /mnt/../{{SecretName}} 2>/dev/null | grep -q {{Secret}}'
        check escape_host_abs_link sh -c '! cat /mnt/host-abs-link/{{SecretName}} 2>/dev/null | grep -q {{Secret}}'
        check escape_host_rel_link sh -c '! cat /mnt/host-rel-link/{{SecretName}} 2>/dev/null | grep -q {{Secret}}'
        check escape_symlink_root sh -c 'ln -s / /mnt/rootlink && ! cat /mnt/rootlink{{Parent}}/{{SecretName}} 2>/dev/null | grep -q {{Secret}}'
        check escape_symlink_relative sh -c 'ln -s ../{{SecretName}} /mnt/rellink && ! cat /mnt/rellink 2>/dev/null | grep -q {{Secret}}'
        check escape_dotdot_passwd sh -c '! cat /mnt/../../etc/passwd 2>/dev/null | grep -q "^root:x:0:0:root:/root:/bin/bash"'
        mkdir /mnt/racedir
        ( i=0; while [ $i -lt 100 ]; do mv /mnt/racedir /mnt/racedir.tmp 2>/dev/null; ln -s / /mnt/racedir 2>/dev/null; rm -f /mnt/racedir; mv /mnt/racedir.tmp /mnt/racedir 2>/dev/null; i=$((i+1)); done ) &
        i=0; while [ $i -lt 100 ]; do echo x > /mnt/racedir/race-marker-$i 2>/dev/null; i=$((i+1)); done; wait
        check escape_rename_race sh -c '[ -d /mnt/racedir ] && [ ! -L /mnt/racedir ]'
        rm -f /race-marker-*
        check cleanup_unmount sh -c 'sync && umount /mnt'
        """;
}
