// FsKillPrivTests.cs — the FUSE flags by which the guest kernel asks the server to drop set-id
// bits because its caller lacks CAP_FSETID: WRITE's FUSE_WRITE_KILL_SUIDGID (sent for direct I/O,
// i.e. --cache never/metadata), SETATTR's FATTR_KILL_SUIDGID and SETXATTR's
// FUSE_SETXATTR_ACL_KILL_SGID. The daemon acts with CAP_FSETID, so the host would keep the bits:
// it must clear them as the kernel does (S_ISGID on write only if group-executable).
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FsKillPrivTests
{
    private const ulong Root = FsTestBed.Root;
    private const uint KillSuidGid = 1 << 2; // FUSE_WRITE_KILL_SUIDGID

    [Theory]
    [InlineData(0x9ed, true, 0x1ed)]  // 04755: setuid cleared
    [InlineData(0xded, true, 0x1ed)]  // 06755: setuid and setgid cleared
    [InlineData(0x5a4, true, 0x5a4)]  // 02644: setgid without group execute (not a set-id program) kept
    [InlineData(0xded, false, 0xded)] // no flag: the writer had CAP_FSETID
    public void Write_KillSuidGid_ClearsSetIdBitsAsTheKernelDoes(uint mode, bool kill, uint expected)
    {
        using var bed = new FsTestBed(configure: o => o with { Cache = CachePolicy.Never });
        string path = bed.HostPath("prog");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        var entry = bed.Client.Lookup(Root, "prog").Entry;
        var (_, handle) = bed.Client.Open(entry.NodeId, 2);
        var data = "exit 0\n"u8.ToArray();
        var input = new FuseWriteIn { Handle = handle, Offset = 10, Size = (uint)data.Length, WriteFlags = kill ? KillSuidGid : 0 };
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Write, entry.NodeId, Concat(Bytes(input), data)).Errno);
        Assert.Equal((UnixFileMode)expected, File.GetUnixFileMode(path));
        Assert.Equal("#!/bin/sh\nexit 0\n", File.ReadAllText(path));
    }

    [Fact]
    public void SetAttr_KillSuidGidWithTruncate_ClearsSetIdBits()
    {
        using var bed = new FsTestBed();
        string path = bed.HostPath("prog");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, (UnixFileMode)0xded);
        var entry = bed.Client.Lookup(Root, "prog").Entry;
        var (errno, attr) = bed.Client.SetAttr(entry.NodeId, new FuseSetAttrIn { Valid = FuseSetAttrIn.Size | FuseSetAttrIn.KillSuidGid, NewSize = 0 });
        Assert.Equal(0, errno);
        Assert.Equal(0x1edu, attr.Attr.Mode & 0xfff);
        Assert.Equal((UnixFileMode)0x1ed, File.GetUnixFileMode(path));
    }

    [Theory]
    [InlineData(true, 0x1ed)]  // the caller is not in the group: S_ISGID goes, even without group execute
    [InlineData(false, 0x5ed)]
    public void SetXattr_AclKillSgid_ClearsSetGid(bool kill, uint expected)
    {
        using var bed = new FsTestBed(configure: o => o with { PosixAcl = true });
        string path = bed.HostPath("dir");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0x5ed); // 02755
        var entry = bed.Client.Lookup(Root, "dir").Entry;
        var acl = FsPosixAclTests.Acl((0x01, 7), (0x04, 5), (0x20, 5)); // user::rwx group::r-x other::r-x
        var input = new FuseSetXattrIn { Size = (uint)acl.Length, SetXattrFlags = kill ? FuseSetXattrIn.AclKillSgid : 0 };
        Assert.Equal(0, bed.Client.Call(FuseOpcode.SetXattr, entry.NodeId, Concat(Bytes(input), Name("system.posix_acl_access"), acl)).Errno);
        Assert.Equal((UnixFileMode)expected, File.GetUnixFileMode(path));
    }
}
