// FsCommandLineTests.cs — what libvirt and scripts written for virtiofsd pass: --print-capabilities
// must say "separate-options" (else libvirt falls back to virtiofsd's legacy "-o source=…" form,
// which we do not take), and every option of libvirt's separate-options command line
// (qemuVirtioFSBuildCommandLine) must parse, in both "--name value" and "--name=value" forms.
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

    private static FsOptions Parse(params string[] args)
    {
        var commandLine = new FsCommandLine();
        var parse = commandLine.CommandLine.Root.Parse(args);
        Assert.Empty(parse.Errors.Select(e => e.Message));
        return commandLine.Options(parse);
    }
}
