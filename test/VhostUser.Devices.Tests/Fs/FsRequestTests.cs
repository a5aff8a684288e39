// FsRequestTests.cs — FUSE requests through the whole vhost-user path (C# front end → daemon →
// FsDevice → PassthroughFs on a temp directory), checked against what the host directory shows.
using System.Runtime.InteropServices;
using System.Text;
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsRequestTests
{
    private const ulong Root = FsTestBed.Root;

    [Fact]
    public void Init_Kernel741_Negotiates741AndOneMiBWrites()
    {
        using var bed = new FsTestBed(init: false);
        var reply = bed.Client.Init();
        Assert.Equal(7u, reply.Major);
        Assert.Equal(41u, reply.Minor);
        Assert.Equal(1u << 20, reply.MaxWrite);
        Assert.Equal(256, reply.MaxPages);
        Assert.NotEqual(0u, reply.Flags & (uint)FuseInitFlags.PosixLocks);
    }

    [Fact]
    public void Init_OlderKernelMinor_AnswersWithTheKernelsMinor()
    {
        using var bed = new FsTestBed(init: false);
        Assert.Equal(31u, bed.Client.Init(minor: 31).Minor);
    }

    [Fact]
    public void Lookup_BeforeInit_IsEio()
    {
        using var bed = new FsTestBed(init: false);
        Assert.Equal(Errno.EIO, bed.Client.Lookup(Root, "x").Errno);
    }

    [Fact]
    public void UnknownOpcode_AfterInit_IsEnosys()
    {
        using var bed = new FsTestBed();
        Assert.Equal(Errno.ENOSYS, bed.Client.Call((FuseOpcode)4000, Root, []).Errno);
        Assert.Equal(Errno.ENOSYS, bed.Client.Call(FuseOpcode.SetupMapping, Root, new byte[40]).Errno);
    }

    [Fact]
    public void CreateWriteRead_NewFile_HostSeesTheBytes()
    {
        using var bed = new FsTestBed();
        var (errno, entry, open) = bed.Client.Create(Root, "hello.txt");
        Assert.Equal(0, errno);
        var data = Encoding.UTF8.GetBytes("hello from the guest");
        Assert.Equal((0, (uint)data.Length), bed.Client.Write(entry.NodeId, open.Handle, 0, data));
        Assert.Equal(data, File.ReadAllBytes(bed.HostPath("hello.txt")));
        var (readErrno, read) = bed.Client.Read(entry.NodeId, open.Handle, 6, 100);
        Assert.Equal(0, readErrno);
        Assert.Equal("from the guest", Encoding.UTF8.GetString(read));
        Assert.Equal(0, bed.Client.Release(entry.NodeId, open.Handle));
        Assert.Equal(0, bed.FileSystem.HandleCount);
    }

    [Theory]
    [InlineData(0x42u, 0)]               // O_RDWR|O_CREAT: opens the existing file
    [InlineData(0xc2u, Errno.EEXIST)]    // O_RDWR|O_CREAT|O_EXCL
    public void Create_ExistingName_HonoursOExcl(uint flags, int expected)
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "kept");
        Assert.Equal(expected, bed.Client.Create(Root, "f", flags).Errno);
        Assert.Equal("kept", File.ReadAllText(bed.HostPath("f")));
        Assert.Equal(expected == 0 ? 1 : 0, bed.FileSystem.HandleCount);
    }

    [Fact]
    public void Read_OneMiB_ComesBackWhole()
    {
        using var bed = new FsTestBed();
        var content = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 31 + 7)).ToArray();
        File.WriteAllBytes(bed.HostPath("big"), content);
        var (_, entry) = bed.Client.Lookup(Root, "big");
        var (_, handle) = bed.Client.Open(entry.NodeId, 0);
        var (errno, data) = bed.Client.Read(entry.NodeId, handle, 0, 1 << 20);
        Assert.Equal(0, errno);
        Assert.Equal(content, data);
        Assert.Empty(bed.Client.Read(entry.NodeId, handle, 1 << 20, 4096).Data); // end of file
    }

    [Fact]
    public void Lookup_HostFile_AttributesMatchTheHost()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("a"), "12345");
        var (errno, entry) = bed.Client.Lookup(Root, "a");
        Assert.Equal(0, errno);
        Assert.Equal(5ul, entry.Attr.Size);
        Assert.Equal(0x8000u, entry.Attr.Mode & 0xF000);
        Assert.Equal(Errno.ENOENT, bed.Client.Lookup(Root, "missing").Errno);
        Assert.Equal(entry.NodeId, bed.Client.Lookup(Root, "a").Entry.NodeId); // same inode, same node id
    }

    [Fact]
    public void MkDirReadDir_ManyEntries_AllListedOnce()
    {
        using var bed = new FsTestBed();
        var (errno, dir) = bed.Client.MkDir(Root, "d");
        Assert.Equal(0, errno);
        for (int i = 0; i < 300; i++)
        {
            File.WriteAllText(bed.HostPath($"d/file-{i:D4}-{new string('x', i % 50)}"), "");
        }
        foreach (bool plus in new[] { false, true })
        {
            var names = bed.Client.ReadDir(dir.NodeId, plus).Select(n => n.Name).Where(n => n is not "." and not "..").ToList();
            Assert.Equal(300, names.Count);
            Assert.Equal(300, names.Distinct().Count());
        }
    }

    [Fact]
    public void ReadDirPlus_Entries_CarryNodeIdsThatWork()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "abc");
        var entry = bed.Client.ReadDir(Root, plus: true).Single(n => n.Name == "f");
        Assert.NotEqual(0ul, entry.NodeId);
        Assert.Equal(3ul, bed.Client.GetAttr(entry.NodeId).Attr.Attr.Size);
    }

    [Fact]
    public void UnlinkRmDir_Names_GoneOnTheHost()
    {
        using var bed = new FsTestBed();
        bed.Client.MkDir(Root, "dir");
        bed.Client.Create(Root, "file");
        File.WriteAllText(bed.HostPath("dir/x"), "");
        Assert.Equal(Errno.ENOTEMPTY, bed.Client.Call(FuseOpcode.RmDir, Root, Name("dir")).Errno);
        File.Delete(bed.HostPath("dir/x"));
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Unlink, Root, Name("file")).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.RmDir, Root, Name("dir")).Errno);
        Assert.False(File.Exists(bed.HostPath("file")));
        Assert.False(Directory.Exists(bed.HostPath("dir")));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)] // RENAME_NOREPLACE
    [InlineData(2u)] // RENAME_EXCHANGE
    public void Rename2_Flags_BehaveAsOnTheHost(uint flags)
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("a"), "A");
        File.WriteAllText(bed.HostPath("b"), "B");
        var args = Concat(Bytes(new FuseRename2In { NewDir = Root, Flags = flags }), Name("a"), Name("b"));
        int errno = bed.Client.Call(FuseOpcode.Rename2, Root, args).Errno;
        switch (flags)
        {
            case 0:
                Assert.Equal(0, errno);
                Assert.Equal("A", File.ReadAllText(bed.HostPath("b")));
                Assert.False(File.Exists(bed.HostPath("a")));
                break;
            case 1:
                Assert.Equal(Errno.EEXIST, errno);
                break;
            default:
                Assert.Equal(0, errno);
                Assert.Equal("B", File.ReadAllText(bed.HostPath("a")));
                Assert.Equal("A", File.ReadAllText(bed.HostPath("b")));
                break;
        }
    }

    [Fact]
    public void SymlinkReadLinkLink_Names_WorkLikeTheHost()
    {
        using var bed = new FsTestBed();
        var (_, file, _) = bed.Client.Create(Root, "target");
        var (errno, payload) = bed.Client.Call(FuseOpcode.Symlink, Root, Concat(Name("sym"), Name("../../etc/passwd")));
        Assert.Equal(0, errno);
        var sym = MemoryMarshal.Read<FuseEntryOut>(payload);
        Assert.Equal("../../etc/passwd", new FileInfo(bed.HostPath("sym")).LinkTarget);
        var (readErrno, target) = bed.Client.Call(FuseOpcode.ReadLink, sym.NodeId, []);
        Assert.Equal(0, readErrno);
        Assert.Equal("../../etc/passwd", Encoding.UTF8.GetString(target));
        var (linkErrno, linkPayload) = bed.Client.Call(FuseOpcode.Link, Root, Concat(Bytes(new FuseLinkIn { OldNodeId = file.NodeId }), Name("hard")));
        Assert.Equal(0, linkErrno);
        Assert.Equal(2u, MemoryMarshal.Read<FuseEntryOut>(linkPayload).Attr.Nlink);
    }

    [Fact]
    public void SetAttr_ModeSizeTimes_AppliedOnTheHost()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "0123456789");
        var (_, entry) = bed.Client.Lookup(Root, "f");
        var input = new FuseSetAttrIn
        {
            Valid = FuseSetAttrIn.Mode | FuseSetAttrIn.Size | FuseSetAttrIn.Mtime | FuseSetAttrIn.Atime,
            NewMode = 0x8000 | 0x1c0, // 0700
            NewSize = 4,
            MtimeSeconds = 1_000_000_000,
            AtimeSeconds = 1_000_000_000,
        };
        var (errno, attr) = bed.Client.SetAttr(entry.NodeId, input);
        Assert.Equal(0, errno);
        Assert.Equal(4ul, attr.Attr.Size);
        Assert.Equal(0x1c0u, attr.Attr.Mode & 0xfff);
        Assert.Equal(1_000_000_000ul, attr.Attr.Mtime);
        Assert.Equal("0123", File.ReadAllText(bed.HostPath("f")));
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(bed.HostPath("f")));
        }
    }

    [Fact]
    public void Xattr_SetGetListRemove_RoundTrip()
    {
        using var bed = new FsTestBed();
        var (_, entry, _) = bed.Client.Create(Root, "x");
        var set = Concat(Bytes(new FuseSetXattrIn { Size = 5 }), Name("user.test"), "value"u8.ToArray());
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SetXattr, entry.NodeId, set).Errno);
        var (errno, value) = bed.Client.Call(FuseOpcode.GetXattr, entry.NodeId, Concat(Bytes(new FuseGetXattrIn { Size = 100 }), Name("user.test")));
        Assert.Equal(0, errno);
        Assert.Equal("value", Encoding.UTF8.GetString(value));
        var (_, size) = bed.Client.Call(FuseOpcode.GetXattr, entry.NodeId, Concat(Bytes(new FuseGetXattrIn { Size = 0 }), Name("user.test")));
        Assert.Equal(5u, BitConverter.ToUInt32(size));
        var (_, list) = bed.Client.Call(FuseOpcode.ListXattr, entry.NodeId, Bytes(new FuseGetXattrIn { Size = 1000 }));
        Assert.Contains("user.test", Encoding.UTF8.GetString(list).Split('\0'));
        Assert.Equal(0, bed.Client.Call(FuseOpcode.RemoveXattr, entry.NodeId, Name("user.test")).Errno);
        Assert.Equal(Errno.ENODATA, bed.Client.Call(FuseOpcode.GetXattr, entry.NodeId, Concat(Bytes(new FuseGetXattrIn { Size = 100 }), Name("user.test"))).Errno);
    }

    [Fact]
    public void Xattr_Disabled_IsEnosys()
    {
        using var bed = new FsTestBed(configure: o => o with { Xattr = false });
        Assert.Equal(Errno.ENOSYS, bed.Client.Call(FuseOpcode.ListXattr, Root, Bytes(new FuseGetXattrIn { Size = 100 })).Errno);
    }

    [Fact]
    public void Locks_SecondHandleConflicts_UntilUnlocked()
    {
        using var bed = new FsTestBed();
        var (_, entry, first) = bed.Client.Create(Root, "lock");
        var (_, second) = bed.Client.Open(entry.NodeId);
        var writeLock = new FuseFileLock { Start = 0, End = long.MaxValue, Type = 1 /* F_WRLCK */ };
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = first.Handle, Owner = 1, Lock = writeLock })).Errno);
        Assert.Equal(Errno.EAGAIN, bed.Client.Call(FuseOpcode.SetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = second, Owner = 2, Lock = writeLock })).Errno);
        var (errno, reply) = bed.Client.Call(FuseOpcode.GetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = second, Owner = 2, Lock = writeLock }));
        Assert.Equal(0, errno);
        Assert.Equal(1u, MemoryMarshal.Read<FuseFileLock>(reply).Type);
        var unlock = writeLock with { Type = 2 /* F_UNLCK */ };
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = first.Handle, Owner = 1, Lock = unlock })).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = second, Owner = 2, Lock = writeLock })).Errno);
    }

    [Fact]
    public void TmpFileThenLink_AnonymousFile_GetsAName()
    {
        using var bed = new FsTestBed();
        var (errno, payload) = bed.Client.Call(FuseOpcode.TmpFile, Root, Bytes(new FuseCreateIn { Flags = 2, Mode = 0x81a4 }));
        Assert.Equal(0, errno);
        var entry = MemoryMarshal.Read<FuseEntryOut>(payload);
        var open = MemoryMarshal.Read<FuseOpenOut>(payload.AsSpan(128));
        Assert.Equal(0, bed.Client.Write(entry.NodeId, open.Handle, 0, "tmp"u8.ToArray()).Errno);
        Assert.Empty(Directory.GetFiles(bed.Directory));
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Link, Root, Concat(Bytes(new FuseLinkIn { OldNodeId = entry.NodeId }), Name("named"))).Errno);
        Assert.Equal("tmp", File.ReadAllText(bed.HostPath("named")));
    }

    [Fact]
    public void FallocateLseekCopyStatfsFsync_OnOpenFiles_Work()
    {
        using var bed = new FsTestBed();
        var (_, a, ha) = bed.Client.Create(Root, "a");
        var (_, b, hb) = bed.Client.Create(Root, "b");
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Fallocate, a.NodeId, Bytes(new FuseFallocateIn { Handle = ha.Handle, Offset = 0, Length = 8192 })).Errno);
        Assert.Equal(8192, new FileInfo(bed.HostPath("a")).Length);
        bed.Client.Write(a.NodeId, ha.Handle, 0, "data"u8.ToArray());
        var (seekErrno, seek) = bed.Client.Call(FuseOpcode.Lseek, a.NodeId, Bytes(new FuseLseekIn { Handle = ha.Handle, Offset = 0, Whence = 3 /* SEEK_DATA */ }));
        Assert.Equal(0, seekErrno);
        Assert.Equal(0ul, BitConverter.ToUInt64(seek));
        var copy = new FuseCopyFileRangeIn { HandleIn = ha.Handle, OffsetIn = 0, NodeIdOut = b.NodeId, HandleOut = hb.Handle, OffsetOut = 0, Length = 4 };
        var (copyErrno, copied) = bed.Client.Call(FuseOpcode.CopyFileRange, a.NodeId, Bytes(copy));
        Assert.Equal(0, copyErrno);
        Assert.Equal(4u, BitConverter.ToUInt32(copied));
        Assert.Equal("data", File.ReadAllText(bed.HostPath("b")));
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Fsync, a.NodeId, Bytes(new FuseFsyncIn { Handle = ha.Handle })).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SyncFs, Root, new byte[8]).Errno);
        var (statErrno, statfs) = bed.Client.Call(FuseOpcode.StatFs, Root, []);
        Assert.Equal(0, statErrno);
        Assert.True(MemoryMarshal.Read<FuseStatFsOut>(statfs).Blocks > 0);
    }

    [Fact]
    public void CopyFileRange_UnknownFlags_IsEinval()
    {
        using var bed = new FsTestBed();
        var (_, a, ha) = bed.Client.Create(Root, "a");
        var (_, b, hb) = bed.Client.Create(Root, "b");
        bed.Client.Write(a.NodeId, ha.Handle, 0, "data"u8.ToArray());
        var copy = new FuseCopyFileRangeIn { HandleIn = ha.Handle, NodeIdOut = b.NodeId, HandleOut = hb.Handle, Length = 4, Flags = 1 };
        Assert.Equal(Errno.EINVAL, bed.Client.Call(FuseOpcode.CopyFileRange, a.NodeId, Bytes(copy)).Errno);
        Assert.Equal(0, new FileInfo(bed.HostPath("b")).Length);
    }

    [Fact]
    public void Create_Entry_IsTheOpenedFile()
    {
        using var bed = new FsTestBed();
        var (errno, entry, open) = bed.Client.Create(Root, "f");
        Assert.Equal(0, errno);
        Assert.Equal(0, bed.Client.Write(entry.NodeId, open.Handle, 0, "12345"u8.ToArray()).Errno);
        Assert.Equal(5ul, bed.Client.GetAttr(entry.NodeId).Attr.Attr.Size);
        Assert.Equal(entry.NodeId, bed.Client.Lookup(Root, "f").Entry.NodeId);
        Assert.Equal(2, bed.FileSystem.InodeCount);
    }

    [Fact]
    public void Forget_LastLookup_DropsTheInode()
    {
        using var bed = new FsTestBed();
        File.WriteAllText(bed.HostPath("f"), "");
        var (_, entry) = bed.Client.Lookup(Root, "f");
        bed.Client.Lookup(Root, "f");
        Assert.Equal(2, bed.FileSystem.InodeCount);
        bed.Clients[0].CallNoReply(FuseOpcode.Forget, entry.NodeId, Bytes(new FuseForgetIn { Count = 1 }));
        Assert.Equal(2, bed.FileSystem.InodeCount);
        var batch = Concat(Bytes(new FuseBatchForgetIn { Count = 1 }), Bytes(new FuseForgetOne { NodeId = entry.NodeId, Count = 1 }));
        bed.Clients[0].CallNoReply(FuseOpcode.BatchForget, 0, batch);
        Assert.Equal(1, bed.FileSystem.InodeCount);
        Assert.Equal(Errno.ENOENT, bed.Client.GetAttr(entry.NodeId).Errno);
    }

    [Fact]
    public void Destroy_EndsTheSession_UntilTheNextInit()
    {
        using var bed = new FsTestBed();
        bed.Client.Create(Root, "f");
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Destroy, Root, []).Errno);
        Assert.Equal(1, bed.FileSystem.InodeCount);
        Assert.Equal(0, bed.FileSystem.HandleCount);
        Assert.Equal(Errno.EIO, bed.Client.Lookup(Root, "f").Errno);
        bed.Client.Init();
        Assert.Equal(0, bed.Client.Lookup(Root, "f").Errno);
    }
}
