// FsHandleReuseTests.cs — inodes kept as file handles (--inode-file-handles prefer) whose host
// file is deleted while the guest still knows them. Once the handle fd cache no longer holds the
// file open, the host frees the inode and the next file created may get the same inode number
// (ext4 and tmpfs hand it out again at once). That file is a different one: it must get a node
// of its own (with another generation), not the old node, whose handle is stale (ESTALE).
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsHandleReuseTests
{
    private const ulong Root = FsTestBed.Root;

    [Theory]
    [InlineData("lookup")]
    [InlineData("readdirplus")]
    [InlineData("create")]
    public void InodeNumberReused_NewFile_GetsItsOwnNodeAndWorks(string how)
    {
        using var bed = new FsTestBed(configure: o => o with { InodeFileHandles = FileHandleMode.Prefer }, handleFdCacheSize: 0);
        File.WriteAllText(bed.HostPath("old"), "old");
        var old = bed.Client.Lookup(Root, "old").Entry;
        File.Delete(bed.HostPath("old")); // the guest still holds its lookup: the node stays
        string? name = how == "create" ? CreateReusing(bed, old.Attr.Ino) : WriteReusing(bed, old.Attr.Ino);
        if (name is null)
        {
            return; // this file system never hands an inode number out twice (btrfs): nothing to confuse
        }
        if (how == "readdirplus")
        {
            // READDIRPLUS answers names whose inode number the guest knows from one statx.
            ulong listed = bed.Client.ReadDir(Root, plus: true).Single(n => n.Name == name).NodeId;
            Assert.NotEqual(old.NodeId, listed);
            Assert.Equal(0, bed.Client.GetAttr(listed).Errno);
        }
        var entry = bed.Client.Lookup(Root, name).Entry;
        Assert.Equal(old.Attr.Ino, entry.Attr.Ino);
        Assert.NotEqual(old.NodeId, entry.NodeId);
        Assert.NotEqual(old.Generation, entry.Generation);
        Assert.Equal(0, bed.Client.GetAttr(entry.NodeId).Errno);
        var (errno, handle) = bed.Client.Open(entry.NodeId, 0);
        Assert.Equal(0, errno);
        Assert.Equal("new", System.Text.Encoding.UTF8.GetString(bed.Client.Read(entry.NodeId, handle, 0, 10).Data));
        Assert.Equal(Errno.ESTALE, bed.Client.GetAttr(old.NodeId).Errno); // the old node is the deleted file's
        // Forgetting the old node leaves the new one where it is.
        bed.Clients[0].CallNoReply(FuseOpcode.Forget, old.NodeId, Bytes(new FuseForgetIn { Count = 1 }));
        Assert.Equal(entry.NodeId, bed.Client.Lookup(Root, name).Entry.NodeId);
    }

    /// <summary>Writes host files until one gets <paramref name="ino"/>; its name, or null.</summary>
    private static string? WriteReusing(FsTestBed bed, ulong ino)
    {
        for (int i = 0; i < 64; i++)
        {
            string name = $"new{i}";
            File.WriteAllText(bed.HostPath(name), "new");
            if (Ino(bed.HostPath(name)) == ino)
            {
                return name;
            }
        }
        return null;
    }

    /// <summary>The guest creates files until one gets <paramref name="ino"/>; its name, or null.</summary>
    private static string? CreateReusing(FsTestBed bed, ulong ino)
    {
        for (int i = 0; i < 64; i++)
        {
            string name = $"new{i}";
            var (errno, entry, open) = bed.Client.Create(Root, name);
            Assert.Equal(0, errno);
            Assert.Equal(0, bed.Client.Write(entry.NodeId, open.Handle, 0, "new"u8.ToArray()).Errno);
            Assert.Equal(0, bed.Client.Release(entry.NodeId, open.Handle));
            if (entry.Attr.Ino == ino)
            {
                Assert.Equal(0, bed.Client.GetAttr(entry.NodeId).Errno);
                return name;
            }
        }
        return null;
    }

    private static ulong Ino(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
