// FsSecurityTests.cs — the guest cannot reach outside --shared-dir: bad names, symlinks to "/"
// and to "..", absolute and relative, opening what is not a regular file, and hostile request
// framing. The host directory is set up with the traps a malicious guest (or another tenant of
// the directory) could plant.
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsSecurityTests
{
    private const ulong Root = FsTestBed.Root;

    [Theory]
    [InlineData("..", Errno.EINVAL)]
    [InlineData(".", Errno.EINVAL)]
    [InlineData("a/b", Errno.EINVAL)]
    [InlineData("../../../etc/passwd", Errno.EINVAL)]
    [InlineData("/etc/passwd", Errno.EINVAL)]
    public void Lookup_NameThatIsNotOneComponent_IsRefused(string name, int errno)
    {
        using var bed = new FsTestBed();
        Assert.Equal(errno, bed.Client.Lookup(Root, name).Errno);
    }

    [Fact]
    public void Lookup_NameLongerThanNameMax_IsEnametoolong()
    {
        using var bed = new FsTestBed();
        Assert.Equal(Errno.ENAMETOOLONG, bed.Client.Lookup(Root, new string('a', 256)).Errno);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/etc")]
    [InlineData("..")]
    [InlineData("../..")]
    public void Lookup_ThroughSymlinkToOutside_NeverLeavesTheDirectory(string target)
    {
        using var bed = new FsTestBed();
        File.CreateSymbolicLink(bed.HostPath("escape"), target);
        var (errno, link) = bed.Client.Lookup(Root, "escape");
        Assert.Equal(0, errno);
        Assert.Equal(0xA000u, link.Attr.Mode & 0xF000); // the link itself, not what it points at
        // Resolving a child through it: the daemon never follows the link.
        Assert.Equal(Errno.ENOTDIR, bed.Client.Lookup(link.NodeId, "passwd").Errno);
        Assert.Equal(Errno.ENOTDIR, bed.Client.Lookup(link.NodeId, "etc").Errno);
        // Opening it, as a file or as a directory, is refused.
        Assert.Equal(Errno.EACCES, bed.Client.Open(link.NodeId, 0).Errno);
        Assert.Equal(Errno.ENOTDIR, bed.Client.Open(link.NodeId, 0, FuseOpcode.OpenDir).Errno);
        // Creating through it lands nowhere outside.
        Assert.NotEqual(0, bed.Client.Create(link.NodeId, "planted").Errno);
        Assert.False(File.Exists("/planted"));
    }

    [Fact]
    public void Create_OverSymlinkToOutside_DoesNotFollowIt()
    {
        using var bed = new FsTestBed();
        string outside = Path.Combine(Path.GetTempPath(), $"vhost-fs-outside-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(bed.HostPath("trap"), outside);
        try
        {
            Assert.Equal(Errno.ELOOP, bed.Client.Create(Root, "trap", flags: 2).Errno);
            Assert.False(File.Exists(outside));
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public void Rename_SymlinkSwappedIn_StillOnlyRenamesNames()
    {
        // The classic race: the guest renames a directory while a symlink to "/" takes its place.
        // Every step uses the parents' handles and single names, so the worst outcome is a link moved.
        using var bed = new FsTestBed();
        Directory.CreateDirectory(bed.HostPath("dir"));
        var (_, dir) = bed.Client.Lookup(Root, "dir");
        Directory.Move(bed.HostPath("dir"), bed.HostPath("moved"));
        File.CreateSymbolicLink(bed.HostPath("dir"), "/");
        // The guest's cached node for "dir" is the real directory (now "moved"): creating in it stays inside.
        var (errno, _, _) = bed.Client.Create(dir.NodeId, "inside");
        Assert.Equal(0, errno);
        Assert.True(File.Exists(bed.HostPath("moved/inside")));
        Assert.False(File.Exists("/inside"));
        // Renaming the link moves the link, never what it points at.
        var args = Concat(Bytes(new FuseRenameIn { NewDir = Root }), Name("dir"), Name("link"));
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Rename, Root, args).Errno);
        Assert.Equal("/", new FileInfo(bed.HostPath("link")).LinkTarget);
    }

    [Fact]
    public void Open_DeviceNodeOrFifo_IsRefused()
    {
        using var bed = new FsTestBed();
        var (errno, fifo) = bed.Client.Call(FuseOpcode.MkNod, Root, Concat(Bytes(new FuseMkNodIn { Mode = 0x1000 | 0x1a4 }), Name("fifo")));
        Assert.Equal(0, errno);
        var entry = MemoryMarshal.Read<FuseEntryOut>(fifo);
        Assert.Equal(Errno.EACCES, bed.Client.Open(entry.NodeId, 0).Errno);
    }

    [Fact]
    public void Request_TruncatedHeader_GetsNoReplyAndTheQueueGoesOn()
    {
        using var bed = new FsTestBed();
        Assert.Equal(0u, bed.Client.SendRaw(new byte[20], 4096));
        Assert.Equal(Errno.ENOENT, bed.Client.Lookup(Root, "nothing").Errno);
    }

    [Fact]
    public void Write_SizeBeyondTheRequest_IsEinval()
    {
        using var bed = new FsTestBed();
        var (_, entry, open) = bed.Client.Create(Root, "f");
        var input = new FuseWriteIn { Handle = open.Handle, Size = 1 << 16 };
        Assert.Equal(Errno.EINVAL, bed.Client.Call(FuseOpcode.Write, entry.NodeId, Concat(Bytes(input), new byte[100])).Errno);
        Assert.Equal(0, new FileInfo(bed.HostPath("f")).Length);
    }

    [Fact]
    public void Name_WithoutTerminator_IsEinval()
    {
        using var bed = new FsTestBed();
        Assert.Equal(Errno.EINVAL, bed.Client.Call(FuseOpcode.Lookup, Root, "abc"u8.ToArray()).Errno);
    }

    [Fact]
    public void UnknownNodeAndHandle_AreEnoentAndEbadf()
    {
        using var bed = new FsTestBed();
        Assert.Equal(Errno.ENOENT, bed.Client.GetAttr(12345).Errno);
        Assert.Equal(Errno.EBADF, bed.Client.Read(Root, 999, 0, 10).Errno);
        // SETATTR naming a handle that is not open: EBADF, not the change made through the path.
        File.WriteAllText(bed.HostPath("f"), "0123456789");
        var entry = bed.Client.Lookup(Root, "f").Entry;
        Assert.Equal(Errno.EBADF, bed.Client.SetAttr(entry.NodeId, new FuseSetAttrIn { Valid = FuseSetAttrIn.Size | FuseSetAttrIn.Handle, Fh = 999, NewSize = 0 }).Errno);
        Assert.Equal(10, new FileInfo(bed.HostPath("f")).Length);
    }
}
