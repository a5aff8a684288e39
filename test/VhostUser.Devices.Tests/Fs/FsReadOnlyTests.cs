// FsReadOnlyTests.cs — --readonly: every request that would change the share is EROFS and leaves
// the host directory as it was, reads still work. One row per request (and per open flag that
// would create or write).
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FsReadOnlyTests
{
    private const ulong Root = FsTestBed.Root;
    private const uint ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, OTrunc = 0x200;

    [Theory]
    [InlineData("create O_RDONLY|O_CREAT")]
    [InlineData("create O_RDWR|O_CREAT")]
    [InlineData("create O_WRONLY|O_CREAT|O_EXCL")]
    [InlineData("tmpfile")]
    [InlineData("mknod")]
    [InlineData("mkdir")]
    [InlineData("symlink")]
    [InlineData("link")]
    [InlineData("rename")]
    [InlineData("rename2 noreplace")]
    [InlineData("unlink")]
    [InlineData("rmdir")]
    [InlineData("setattr mode")]
    [InlineData("setattr owner")]
    [InlineData("setattr size")]
    [InlineData("setattr times")]
    [InlineData("open O_WRONLY")]
    [InlineData("open O_RDONLY|O_TRUNC")]
    [InlineData("write")]
    [InlineData("fallocate")]
    [InlineData("copy_file_range")]
    [InlineData("setxattr")]
    [InlineData("removexattr")]
    [InlineData("ioctl FS_IOC_SETFLAGS")]
    public void ReadOnly_Change_IsErofsAndTheHostIsUntouched(string request)
    {
        using var bed = new FsTestBed(configure: o => o with { ReadOnly = true });
        File.WriteAllText(bed.HostPath("f"), "content");
        Directory.CreateDirectory(bed.HostPath("d"));
        var before = Snapshot(bed);
        var c = bed.Client;
        ulong f = c.Lookup(Root, "f").Entry.NodeId;
        ulong d = c.Lookup(Root, "d").Entry.NodeId;
        var (openErrno, readHandle) = c.Open(f, ORdOnly);
        Assert.Equal(0, openErrno);
        int errno = request switch
        {
            "create O_RDONLY|O_CREAT" => c.Create(Root, "new", ORdOnly | OCreat).Errno,
            "create O_RDWR|O_CREAT" => c.Create(Root, "new", ORdWr | OCreat).Errno,
            "create O_WRONLY|O_CREAT|O_EXCL" => c.Create(Root, "new", OWrOnly | OCreat | OExcl).Errno,
            "tmpfile" => c.Call(FuseOpcode.TmpFile, Root, Bytes(new FuseCreateIn { Flags = ORdWr, Mode = 0x81a4 })).Errno,
            "mknod" => c.Call(FuseOpcode.MkNod, Root, Concat(Bytes(new FuseMkNodIn { Mode = 0x1000 | 0x1a4 }), Name("new"))).Errno,
            "mkdir" => c.MkDir(Root, "new").Errno,
            "symlink" => c.Call(FuseOpcode.Symlink, Root, Concat(Name("new"), Name("f"))).Errno,
            "link" => c.Call(FuseOpcode.Link, Root, Concat(Bytes(new FuseLinkIn { OldNodeId = f }), Name("new"))).Errno,
            "rename" => c.Call(FuseOpcode.Rename, Root, Concat(Bytes(new FuseRenameIn { NewDir = Root }), Name("f"), Name("new"))).Errno,
            "rename2 noreplace" => c.Call(FuseOpcode.Rename2, Root, Concat(Bytes(new FuseRename2In { NewDir = Root, Flags = 1 }), Name("f"), Name("new"))).Errno,
            "unlink" => c.Call(FuseOpcode.Unlink, Root, Name("f")).Errno,
            "rmdir" => c.Call(FuseOpcode.RmDir, Root, Name("d")).Errno,
            "setattr mode" => c.SetAttr(f, new FuseSetAttrIn { Valid = FuseSetAttrIn.Mode, NewMode = 0x8000 | 0x1ff }).Errno,
            "setattr owner" => c.SetAttr(f, new FuseSetAttrIn { Valid = FuseSetAttrIn.Uid | FuseSetAttrIn.Gid, NewUid = 1000, NewGid = 1000 }).Errno,
            "setattr size" => c.SetAttr(f, new FuseSetAttrIn { Valid = FuseSetAttrIn.Size, NewSize = 1 }).Errno,
            "setattr times" => c.SetAttr(f, new FuseSetAttrIn { Valid = FuseSetAttrIn.Mtime, MtimeSeconds = 1 }).Errno,
            "open O_WRONLY" => c.Open(f, OWrOnly).Errno,
            "open O_RDONLY|O_TRUNC" => c.Open(f, ORdOnly | OTrunc).Errno,
            "write" => c.Write(f, readHandle, 0, "changed"u8.ToArray()).Errno,
            "fallocate" => c.Call(FuseOpcode.Fallocate, f, Bytes(new FuseFallocateIn { Handle = readHandle, Length = 1 << 20 })).Errno,
            "copy_file_range" => c.Call(FuseOpcode.CopyFileRange, f, Bytes(new FuseCopyFileRangeIn { HandleIn = readHandle, NodeIdOut = f, HandleOut = readHandle, OffsetOut = 7, Length = 7 })).Errno,
            "setxattr" => c.Call(FuseOpcode.SetXattr, f, Concat(Bytes(new FuseSetXattrIn { Size = 1 }), Name("user.new"), "x"u8.ToArray())).Errno,
            "removexattr" => c.Call(FuseOpcode.RemoveXattr, f, Name("user.old")).Errno,
            "ioctl FS_IOC_SETFLAGS" => c.Call(FuseOpcode.Ioctl, f, Concat(Bytes(new FuseIoctlIn { Handle = readHandle, Command = 0x40086602, InSize = 4 }), new byte[4])).Errno,
            _ => throw new ArgumentException(request),
        };
        Assert.Equal(Errno.EROFS, errno);
        Assert.Equal(before, Snapshot(bed));
        Assert.Equal("content", System.Text.Encoding.UTF8.GetString(c.Read(f, readHandle, 0, 100).Data)); // reads still work
    }

    /// <summary>Names, types, sizes, modes, times and contents of everything in the share.</summary>
    private static string Snapshot(FsTestBed bed) => string.Join("\n", Directory.EnumerateFileSystemEntries(bed.Directory).Order(StringComparer.Ordinal).Select(path =>
    {
        var info = new FileInfo(path);
        string content = info.Attributes.HasFlag(FileAttributes.Directory) ? "dir" : File.ReadAllText(path);
        return $"{Path.GetFileName(path)} {info.Attributes} {File.GetUnixFileMode(path)} {info.LastWriteTimeUtc:O} {content}";
    }));
}
