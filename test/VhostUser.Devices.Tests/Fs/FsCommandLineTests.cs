// FsCommandLineTests.cs — what libvirt and scripts written for virtiofsd pass: --print-capabilities
// must say "separate-options" (so libvirt passes separate options), every option of libvirt's
// separate-options command line (qemuVirtioFSBuildCommandLine) must parse, in both "--name value"
// and "--name=value" forms, and virtiofsd's legacy forms (Kata's and QEMU's docs' "-o source=…",
// -d, -f, --socket) mean what they mean to virtiofsd, or are refused with a reason.
using VhostUser.Devices.Fs;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsCommandLineTests
{
    [Fact]
    public void PrintCapabilities_SaysFsAndSeparateOptions()
    {
        using var output = new MemoryStream();
        new FsCommandLine().CommandLine.PrintCapabilities(output);
        using var json = System.Text.Json.JsonDocument.Parse(output.ToArray());
        Assert.Equal("fs", json.RootElement.GetProperty("type").GetString());
        var features = json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Contains("separate-options", features);
        Assert.DoesNotContain("migrate-precopy", features); // no DEVICE_STATE (README "Not done")
    }

    [Fact]
    public void LibvirtSeparateOptions_EveryOneIsAccepted()
    {
        string dir = Path.GetTempPath();
        // As qemuVirtioFSBuildCommandLine writes them (cache "none" becomes never, debug logging --log-level debug).
        var options = Parse("--fd=3", "--shared-dir", dir, "--cache", "never", "--sandbox", "chroot", "--xattr",
            "--thread-pool-size=16", "--rlimit-nofile=4096", "--log-level", "debug");
        Assert.Equal(Path.GetFullPath(dir), options.SharedDir);
        Assert.Equal(CachePolicy.Never, options.Cache);
        Assert.Equal(SandboxMode.Chroot, options.Sandbox);
        Assert.True(options.Xattr);
        Assert.Equal(16, options.ThreadPoolSize);
        Assert.Equal(4096ul, options.RlimitNofile);
    }

    [Fact]
    public void VirtiofsdOptions_BothFormsAreAccepted()
    {
        string dir = Path.GetTempPath();
        var options = Parse("--fd", "3", "--shared-dir=" + dir, "--cache=always", "--sandbox=namespace", "--xattr", "--posix-acl",
            "--announce-submounts", "--thread-pool-size", "2", "--rlimit-nofile", "0", "--log-level=info", "--readonly", "--inode-file-handles=never");
        Assert.Equal(CachePolicy.Always, options.Cache);
        Assert.True(options.PosixAcl);
        Assert.True(options.AnnounceSubmounts);
        Assert.True(options.ReadOnly);
        Assert.Equal(2, options.ThreadPoolSize);
        Assert.Equal(0ul, options.RlimitNofile);
        Assert.Equal(FileHandleMode.Never, options.InodeFileHandles);
    }

    [Fact]
    public void RlimitNofile_NotGiven_IsAutomatic()
    {
        Assert.Null(Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath()).RlimitNofile);
    }

    [Fact]
    public void LegacyOptions_KataCommandLine_MeansWhatItMeansToVirtiofsd()
    {
        string dir = Path.GetTempPath();
        // Kata's virtiofsd.go: --syslog -o cache=… -o no_posix_lock -o source=… --fd=N -f, plus extra args.
        var options = ParseCompat("--syslog", "-o", "cache=auto", "-o", "no_posix_lock", "-o", "source=" + dir, "--fd=3", "-f",
            "--thread-pool-size=1", "-o", "xattr");
        Assert.Equal(Path.GetFullPath(dir), options.SharedDir);
        Assert.Equal(CachePolicy.Auto, options.Cache);
        Assert.False(options.PosixLocks);
        Assert.True(options.Xattr);
        Assert.Equal(1, options.ThreadPoolSize);
    }

    [Fact]
    public void LegacyOptions_OneCommaList_LastOfAKeyWinsAndNameFormsWin()
    {
        string dir = Path.GetTempPath();
        var options = ParseCompat("--socket", "/tmp/x.sock", "-osource=" + dir + ",cache=none,xattr,posix_acl,writeback,no_readdirplus,allow_direct_io,no_announce_submounts,sandbox=chroot,no_writeback");
        Assert.Equal(CachePolicy.Never, options.Cache);
        Assert.True(options.PosixAcl && options.Xattr);
        Assert.False(options.Writeback);
        Assert.False(options.ReadDirPlus);
        Assert.True(options.AllowDirectIo);
        Assert.False(options.AnnounceSubmounts);
        Assert.Equal(SandboxMode.Chroot, options.Sandbox);

        var explicitWins = ParseCompat("--socket-path", "/tmp/x.sock", "--cache", "metadata", "-o", "cache=always,source=" + dir, "--announce-submounts", "-o", "no_announce_submounts");
        Assert.Equal(CachePolicy.Metadata, explicitWins.Cache);
        Assert.True(explicitWins.AnnounceSubmounts);
    }

    [Fact]
    public void LegacyOptions_DebugAndSocket_BecomeTheirSeparateForms()
    {
        Assert.Equal(["--log-level", "debug", "--socket-path", "/tmp/s", "--shared-dir", "/d"],
            FsCompat.Expand(["-d", "--socket", "/tmp/s", "--shared-dir", "/d"]));
        Assert.Equal(["--shared-dir", "/d", "--log-level", "error", "--socket-path=/tmp/s"],
            FsCompat.Expand(["-o", "source=/d,log_level=err", "--socket=/tmp/s", "-f"]));
    }

    [Theory]
    [InlineData("flock", "flock")]
    [InlineData("killpriv_v2", "KILLPRIV_V2")]
    [InlineData("xattrmap=:map::user.x.:", "not supported")]
    [InlineData("nonsense", "unknown legacy option")]
    public void LegacyOptions_WhatWeDoNotDo_IsRefusedWithAReason(string item, string reason)
    {
        var e = Assert.Throws<VhostUser.Backend.DaemonOptionsException>(() => FsCompat.Expand(["-o", "source=/d," + item]));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Defaults_AreVirtiofsdsWhereItHasThem()
    {
        var options = Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath());
        Assert.True(options.AnnounceSubmounts); // virtiofsd 1.11+: on unless --no-announce-submounts
        Assert.True(options.ReadDirPlus);
        Assert.False(options.AllowDirectIo);
        Assert.True(options.PosixLocks);
        Assert.Equal(SeccompAction.Errno, options.Seccomp);
        Assert.Equal(SeccompAction.None, Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath(), "--seccomp=none").Seccomp);
        Assert.Equal(SeccompAction.Kill, Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath(), "--seccomp", "kill").Seccomp);
        Assert.Equal(FileHandleMode.Prefer, Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath(), "--inode-file-handles=fallback").InodeFileHandles);
        Assert.Throws<VhostUser.Backend.DaemonOptionsException>(() => Parse("--socket-path", "/tmp/x.sock", "--shared-dir", Path.GetTempPath(), "--seccomp", "maybe"));
    }

    [Fact]
    public void SocketGroup_NamesAndNumbersResolve_UnknownIsRefused()
    {
        Assert.Equal(0u, SocketGroup.Resolve("root"));
        Assert.Equal(1234u, SocketGroup.Resolve("1234"));
        var e = Assert.Throws<VhostUser.Backend.DaemonOptionsException>(() => SocketGroup.Resolve("no-such-group-vhostd"));
        Assert.Contains("no such group", e.Message);
    }

    private static FsOptions ParseCompat(params string[] args) => Parse(FsCompat.Expand(args));

    private static FsOptions Parse(params string[] args)
    {
        var commandLine = new FsCommandLine();
        var parse = commandLine.CommandLine.Root.Parse(args);
        Assert.Empty(parse.Errors.Select(e => e.Message));
        return commandLine.Options(parse);
    }
}
