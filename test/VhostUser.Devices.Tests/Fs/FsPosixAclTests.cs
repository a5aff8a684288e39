// FsPosixAclTests.cs — --posix-acl offers FUSE_DONT_MASK: the guest sends modes as the caller
// gave them, with its umask beside them, and the daemon creates under that umask, so the host
// applies it only where the parent has no default ACL (where it has one, the ACL decides), as a
// local mkdir or open would. Without --posix-acl the guest masks modes itself and nothing changes.
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FsPosixAclTests
{
    private const ulong Root = FsTestBed.Root;
    private const uint Umask022 = 0x12, Umask027 = 0x17;

    [Fact]
    public void Init_PosixAcl_OffersDontMask()
    {
        using var bed = new FsTestBed(configure: o => o with { PosixAcl = true }, init: false);
        var flags = (FuseInitFlags)bed.Client.Init().Flags;
        Assert.Equal(FuseInitFlags.PosixAcl | FuseInitFlags.DontMask, flags & (FuseInitFlags.PosixAcl | FuseInitFlags.DontMask));
        using var plain = new FsTestBed(init: false);
        Assert.Equal(FuseInitFlags.None, (FuseInitFlags)plain.Client.Init().Flags & (FuseInitFlags.PosixAcl | FuseInitFlags.DontMask));
    }

    [Theory]
    [InlineData(true, false, 0x1ed, 0x1a4, 0x1a0)]  // no default ACL: the request's umask applies (0755, 0644, 0640)
    [InlineData(true, true, 0x1ff, 0x1b6, 0x1b6)]   // default ACL rwx for all: it decides, the umask does not
    [InlineData(false, false, 0x1ff, 0x1b6, 0x1b6)] // no --posix-acl: the guest masked already, the mode is used as sent
    public void Create_ModeAndUmask_AppliedOnlyWithoutDefaultAcl(bool posixAcl, bool defaultAcl, uint dirMode, uint fileMode, uint fifoMode)
    {
        using var bed = new FsTestBed(configure: o => o with { PosixAcl = posixAcl });
        Directory.CreateDirectory(bed.HostPath("parent"));
        ulong parent = bed.Client.Lookup(Root, "parent").Entry.NodeId;
        if (defaultAcl)
        {
            var acl = Acl((0x01, 7), (0x04, 7), (0x20, 7)); // default: user::rwx group::rwx other::rwx
            Assert.Equal(0, bed.Client.Call(FuseOpcode.SetXattr, parent, Concat(Bytes(new FuseSetXattrIn { Size = (uint)acl.Length }), Name("system.posix_acl_default"), acl)).Errno);
        }
        Assert.Equal(0, bed.Client.Call(FuseOpcode.MkDir, parent, Concat(Bytes(new FuseMkDirIn { Mode = 0x41ff, Umask = Umask022 }), Name("dir"))).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.Create, parent, Concat(Bytes(new FuseCreateIn { Flags = 0x42, Mode = 0x81b6, Umask = Umask022 }), Name("file"))).Errno);
        Assert.Equal(0, bed.Client.Call(FuseOpcode.MkNod, parent, Concat(Bytes(new FuseMkNodIn { Mode = 0x11b6, Umask = Umask027 }), Name("fifo"))).Errno);
        Assert.Equal((UnixFileMode)dirMode, File.GetUnixFileMode(bed.HostPath("parent/dir")));
        Assert.Equal((UnixFileMode)fileMode, File.GetUnixFileMode(bed.HostPath("parent/file")));
        Assert.Equal((UnixFileMode)fifoMode, File.GetUnixFileMode(bed.HostPath("parent/fifo")));
        // The umask was the request's alone: the next request on the thread sees none.
        Assert.Equal(0, bed.Client.Call(FuseOpcode.MkDir, Root, Concat(Bytes(new FuseMkDirIn { Mode = 0x41ff, Umask = 0 }), Name("open"))).Errno);
        Assert.Equal((UnixFileMode)0x1ff, File.GetUnixFileMode(bed.HostPath("open")));
    }

    /// <summary>A system.posix_acl_* value: version 2, then (tag, perm, ACL_UNDEFINED_ID) entries.</summary>
    internal static byte[] Acl(params (ushort Tag, ushort Perm)[] entries)
    {
        var bytes = new byte[4 + (8 * entries.Length)];
        BitConverter.TryWriteBytes(bytes, 2u);
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(4 + (8 * i)), entries[i].Tag);
            BitConverter.TryWriteBytes(bytes.AsSpan(6 + (8 * i)), entries[i].Perm);
            BitConverter.TryWriteBytes(bytes.AsSpan(8 + (8 * i)), uint.MaxValue);
        }
        return bytes;
    }
}
