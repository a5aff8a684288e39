// FsDeviceTests.cs — the device around the FUSE layer: several request queues served at once,
// the thread pool, inodes kept as file handles (no fd per inode), config space, options.
using VhostUser.Backend;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Fuse;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsDeviceTests
{
    private const ulong Root = FsTestBed.Root;

    [Fact]
    public void RequestQueues_Four_EachServesRequests()
    {
        using var bed = new FsTestBed(requestQueues: 4);
        File.WriteAllText(bed.HostPath("f"), "x");
        var threads = Enumerable.Range(1, 4).Select(q => new Thread(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(0, bed.Clients[q].Lookup(Root, "f").Errno);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int q = 1; q <= 4; q++)
        {
            Assert.True(bed.Device.RequestsPerQueue[q] >= 50, $"queue {q} served {bed.Device.RequestsPerQueue[q]}");
        }
    }

    [Fact]
    public void ThreadPool_Requests_AreServedAndCompletedOnTheQueue()
    {
        using var bed = new FsTestBed(configure: o => o with { ThreadPoolSize = 2 });
        var (errno, entry, open) = bed.Client.Create(Root, "f");
        Assert.Equal(0, errno);
        var data = new byte[300_000];
        new Random(1).NextBytes(data);
        Assert.Equal((uint)data.Length, bed.Client.Write(entry.NodeId, open.Handle, 0, data).Written);
        Assert.Equal(data, bed.Client.Read(entry.NodeId, open.Handle, 0, (uint)data.Length).Data);
    }

    [Theory]
    [InlineData("prefer")]
    [InlineData("mandatory")]
    public void InodeFileHandles_ManyLookups_HoldNoFdPerInode(string mode)
    {
        using var bed = new FsTestBed(configure: o => o with { InodeFileHandles = Enum.Parse<FileHandleMode>(mode, true) }, handleFdCacheSize: 50);
        for (int i = 0; i < 200; i++)
        {
            File.WriteAllText(bed.HostPath($"f{i}"), $"{i}");
        }
        for (int i = 0; i < 200; i++)
        {
            var (errno, entry) = bed.Client.Lookup(Root, $"f{i}");
            Assert.Equal(0, errno);
            var (_, handle) = bed.Client.Open(entry.NodeId, 0);
            Assert.Equal($"{i}", System.Text.Encoding.UTF8.GetString(bed.Client.Read(entry.NodeId, handle, 0, 10).Data));
            bed.Client.Release(entry.NodeId, handle);
        }
        Assert.Equal(201, bed.FileSystem.InodeCount);
        Assert.Equal(0, bed.FileSystem.InodeFdCount);
        Assert.InRange(bed.FileSystem.CachedFdCount, 1, 50);
    }

    [Fact]
    public void InodeFileHandles_TmpFileAndUnlinkedOpenFile_StillWork()
    {
        using var bed = new FsTestBed(configure: o => o with { InodeFileHandles = FileHandleMode.Prefer }, handleFdCacheSize: 0);
        var (errno, payload) = bed.Client.Call(FuseOpcode.TmpFile, Root, FuseClient.Bytes(new FuseCreateIn { Flags = 2, Mode = 0x81a4 }));
        Assert.Equal(0, errno);
        var entry = System.Runtime.InteropServices.MemoryMarshal.Read<FuseEntryOut>(payload);
        Assert.Equal(0, bed.Client.GetAttr(entry.NodeId).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Link, Root, FuseClient.Concat(FuseClient.Bytes(new FuseLinkIn { OldNodeId = entry.NodeId }), FuseClient.Name("linked"))).Errno);
        Assert.True(File.Exists(bed.HostPath("linked")));
    }

    [Fact]
    public void Options_Default_KeepsInodesByHandleWhereTheKernelAllows()
    {
        var options = FsOptions.Create(Path.GetTempPath(), null, 1, "auto", false, false, false, false, "none", "prefer", 0, false);
        using var fs = new VhostUser.Devices.Fs.Passthrough.PassthroughFs(options);
        Assert.Equal(FileHandleMode.Prefer, fs.FileHandles); // root here: open_by_handle_at works
    }

    [Fact]
    public void Config_WithTag_HoldsTagAndQueueCount()
    {
        using var bed = new FsTestBed(requestQueues: 2, configure: o => o with { Tag = "myfs" });
        Assert.Equal(40, bed.Device.ConfigSize);
        var config = new byte[40];
        bed.Device.ReadConfig(0, config);
        Assert.Equal("myfs", System.Text.Encoding.UTF8.GetString(config, 0, 4));
        Assert.Equal(0, config[4]);
        Assert.Equal(2u, BitConverter.ToUInt32(config, 36));
    }

    [Fact]
    public void Config_WithoutTag_IsNotOffered()
    {
        using var bed = new FsTestBed();
        Assert.Equal(0, bed.Device.ConfigSize);
    }

    [Theory]
    [InlineData("--cache", "sometimes")]
    [InlineData("--sandbox", "jail")]
    [InlineData("--inode-file-handles", "always")]
    [InlineData("--tag", "this-tag-is-far-too-long-for-the-36-byte-field")]
    [InlineData("--shared-dir", "/does/not/exist")]
    public void Options_BadValue_SayWhatToFix(string option, string value)
    {
        string dir = Path.GetTempPath();
        var e = Assert.Throws<DaemonOptionsException>(() => FsOptions.Create(
            option == "--shared-dir" ? value : dir, option == "--tag" ? value : null, 1,
            option == "--cache" ? value : "auto", false, false, false, false,
            option == "--sandbox" ? value : "none", option == "--inode-file-handles" ? value : "never", 0, false));
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_PosixAclWithoutXattr_IsRefused()
    {
        var e = Assert.Throws<DaemonOptionsException>(() => FsOptions.Create(Path.GetTempPath(), null, 1, "auto", false, false, true, false, "none", "never", 0, false));
        Assert.Contains("--xattr", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CacheNever_Replies_HaveZeroTimeoutsAndDirectIo()
    {
        using var bed = new FsTestBed(configure: o => o with { Cache = CachePolicy.Never });
        var (_, entry, open) = bed.Client.Create(Root, "f");
        Assert.Equal(0ul, entry.EntryValid);
        Assert.Equal(0ul, entry.AttrValid);
        Assert.Equal(FuseOpenOut.DirectIo, open.OpenFlags & FuseOpenOut.DirectIo);
    }
}
