// FsLookupTests.cs — LOOKUP of names the guest already knows (answered from one statx of the name,
// nothing opened) must count lookups, notice names replaced on the host, and never follow a link.
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsLookupTests
{
    private const ulong Root = FsTestBed.Root;

    [Fact]
    public void Lookup_KnownNameTwice_SameNodeAndBothLookupsCounted()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "x");
        var first = bed.Client.Lookup(Root, "f");
        var second = bed.Client.Lookup(Root, "f");
        Assert.Equal((0, first.Entry.NodeId), (second.Errno, second.Entry.NodeId));
        Assert.Equal(1ul, second.Entry.Attr.Size);
        bed.Clients[0].CallNoReply(FuseOpcode.Forget, first.Entry.NodeId, Bytes(new FuseForgetIn { Count = 1 }));
        Assert.Equal(2, bed.FileSystem.InodeCount); // one lookup still held
        bed.Clients[0].CallNoReply(FuseOpcode.Forget, first.Entry.NodeId, Bytes(new FuseForgetIn { Count = 1 }));
        Assert.Equal(1, bed.FileSystem.InodeCount);
    }

    [Fact]
    public void Lookup_KnownNameReplacedOnHost_GivesTheNewInode()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "old");
        File.WriteAllText(bed.HostPath("g"), "newer");
        var old = bed.Client.Lookup(Root, "f").Entry;
        File.Move(bed.HostPath("g"), bed.HostPath("f"), overwrite: true);
        var (errno, replaced) = bed.Client.Lookup(Root, "f");
        Assert.Equal(0, errno);
        Assert.NotEqual(old.NodeId, replaced.NodeId);
        Assert.Equal(5ul, replaced.Attr.Size);
    }

    [Fact]
    public void Lookup_KnownNameRemovedOnHost_IsEnoent()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "x");
        Assert.Equal(0, bed.Client.Lookup(Root, "f").Errno);
        File.Delete(bed.HostPath("f"));
        Assert.Equal(Errno.ENOENT, bed.Client.Lookup(Root, "f").Errno);
    }

    [Fact]
    public void Lookup_SymlinkToAKnownInode_IsTheLinkItself()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("target"), "x");
        File.CreateSymbolicLink(bed.HostPath("link"), "target");
        File.CreateSymbolicLink(bed.HostPath("out"), "/etc");
        var target = bed.Client.Lookup(Root, "target").Entry;
        foreach (string name in new[] { "link", "link", "out", "out" })
        {
            var (errno, entry) = bed.Client.Lookup(Root, name);
            Assert.Equal(0, errno);
            Assert.NotEqual(target.NodeId, entry.NodeId);
            Assert.Equal(0xA000u, entry.Attr.Mode & 0xF000); // S_IFLNK: never what the link points at
        }
    }

    [Fact]
    public void ReadDirPlus_SecondListing_SameNodesAsTheFirst()
    {
        using var bed = new FsTestBed();
        for (int i = 0; i < 20; i++)
        {
            File.WriteAllText(bed.HostPath($"f{i}"), "");
        }
        var first = bed.Client.ReadDir(Root, plus: true).Where(n => n.Name.StartsWith('f')).OrderBy(n => n.Name).ToList();
        var second = bed.Client.ReadDir(Root, plus: true).Where(n => n.Name.StartsWith('f')).OrderBy(n => n.Name).ToList();
        Assert.Equal(20, first.Count);
        Assert.All(first, n => Assert.NotEqual(0ul, n.NodeId));
        Assert.Equal(first, second);
        Assert.Equal(21, bed.FileSystem.InodeCount); // root + 20, each looked up twice
    }
}
