// FsOptionEffectsTests.cs — the virtiofsd options beyond the basics do what they say: READDIRPLUS
// and POSIX locks are offered unless turned off, O_DIRECT from the guest reaches the host file
// only with --allow-direct-io, --seccomp picks the filter's action, and --syslog lines reach a
// syslog socket in RFC 3164 form.
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Fuse;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsOptionEffectsTests
{
    private const ulong Root = FsTestBed.Root;
    private const int ODirect = 0x4000; // x86-64 (arm64: 0x10000)

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Init_ReadDirPlusAndPosixLocks_OfferedUnlessTurnedOff(bool readDirPlus, bool posixLocks)
    {
        using var bed = new FsTestBed(init: false, configure: o => o with { ReadDirPlus = readDirPlus, PosixLocks = posixLocks });
        var flags = (FuseInitFlags)bed.Client.Init().Flags;
        Assert.Equal(readDirPlus, flags.HasFlag(FuseInitFlags.DoReadDirPlus));
        Assert.Equal(posixLocks, flags.HasFlag(FuseInitFlags.PosixLocks));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_GuestODirect_ReachesTheHostFileOnlyWithAllowDirectIo(bool allow)
    {
        using var bed = new FsTestBed(configure: o => o with { AllowDirectIo = allow });
        File.WriteAllBytes(bed.HostPath("f"), new byte[8192]);
        var entry = bed.Client.Lookup(Root, "f").Entry;
        int oDirect = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? 0x10000 : ODirect;
        var (errno, _) = bed.Client.Open(entry.NodeId, (uint)(0 | oDirect));
        Skip.If(errno == Errno.EINVAL, "the temporary directory's file system refuses O_DIRECT");
        Assert.Equal(0, errno);
        Assert.Equal(allow, OpenFlagsOf(bed.HostPath("f")).Any(f => (f & oDirect) != 0));
    }

    [Fact]
    public void Seccomp_Action_IsWhatADeniedCallGets()
    {
        Assert.Equal(0x00050001u, SeccompFilter.ReturnValue(SeccompAction.Errno)); // ERRNO | EPERM
        Assert.Equal(0x80000000u, SeccompFilter.ReturnValue(SeccompAction.Kill));  // KILL_PROCESS
        Assert.Equal(0x00030000u, SeccompFilter.ReturnValue(SeccompAction.Trap));
        Assert.Equal(0x7ffc0000u, SeccompFilter.ReturnValue(SeccompAction.Log));
        var program = SeccompFilter.Build(SeccompAction.Kill)!;
        Assert.Equal(2, program.Count(i => i.Code == 0x06 && i.K == 0x80000000u)); // other ABI and the deny target
        Assert.DoesNotContain(program, i => i.Code == 0x06 && i.K == 0x00050001u);
    }

    [Fact]
    public void Syslog_LogLine_ArrivesAsAnRfc3164Datagram()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vhostd-syslog-{Guid.NewGuid():N}.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        server.ReceiveTimeout = 5000;
        try
        {
            using (var provider = SyslogLoggerProvider.TryCreate("vhost-user-fs", path)!)
            {
                provider.CreateLogger("sandbox").Log(LogLevel.Warning, default, "disk x full", null, (state, _) => state);
            }
            var buffer = new byte[1024];
            int n = server.Receive(buffer);
            Assert.Equal($"<12>vhost-user-fs[{Environment.ProcessId}]: sandbox: disk x full", Encoding.UTF8.GetString(buffer, 0, n)); // user.warning
            Assert.Null(SyslogLoggerProvider.TryCreate("vhost-user-fs", path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The open flags (fdinfo, octal) of this process's descriptors on <paramref name="path"/>.</summary>
    private static List<int> OpenFlagsOf(string path)
    {
        var flags = new List<int>();
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            if (target != path)
            {
                continue;
            }
            string? line = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").FirstOrDefault(l => l.StartsWith("flags:", StringComparison.Ordinal));
            if (line is not null)
            {
                flags.Add(Convert.ToInt32(line["flags:".Length..].Trim(), 8));
            }
        }
        return flags;
    }
}
