// Proves the rig's vhost-user path before our daemons exist, with QEMU's own back end
// qemu-storage-daemon (vhost-user-blk export): shared memfd guest RAM, the chardev socket, the
// daemon life cycle, MMIO with qboot, and one daemon serving two QEMU runs in a row. The data the
// guest writes is checked on the host side too.
using System.Security.Cryptography;

namespace VhostUser.EndToEnd.Tests.SelfTest;

[Collection(GuestCollection.Name)]
[Trait("Category", "RigSelfTest")]
public sealed class PeerDaemonSelfTests(ITestOutputHelper output) : IDisposable
{
    private const int DiskMiB = 64;
    private readonly string _directory = Directory.CreateTempSubdirectory("vhostd-peer-").FullName;

    private string Image
    {
        get
        {
            var image = Path.Combine(_directory, "disk.img");
            if (!File.Exists(image))
            {
                using var file = File.Create(image);
                file.SetLength(DiskMiB << 20);
            }

            return image;
        }
    }

    // Host tools in the guest (mkfs.ext4, e2fsck); then 1 MiB of random data written, the page
    // cache dropped, and the data read back through the device.
    private const string BlkScript = """
        wait_for /dev/vda 10
        check disk_present test -b /dev/vda
        check disk_size test "$(cat /sys/block/vda/size)" = "$((DISK_MIB * 2048))"
        check mkfs mkfs.ext4 -q -F /dev/vda
        check fsck e2fsck -fn /dev/vda
        head -c 1048576 /dev/urandom > /tmp/pattern
        check write_1MiB dd if=/tmp/pattern of=/dev/vda bs=65536 conv=fsync
        echo 3 > /proc/sys/vm/drop_caches
        want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
        got=$(head -c 1048576 /dev/vda | sha256sum | cut -d' ' -f1)
        info pattern-sha256 "$want"
        if [ "$want" = "$got" ]; then pass read_back; else fail read_back "sha256 $got, wrote $want"; fi
        """;

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task QemuStorageDaemon_GuestWritesAndReadsDisk(Transport transport)
    {
        var result = await Rig.RunAsync(Run(transport, "selftest-peer-blk", daemon: QemuStorageDaemon()), output);

        GuestAssert.Passed(result, "disk_present", "disk_size", "mkfs", "fsck", "write_1MiB", "read_back");
        Assert.Equal(result.InfoValue("pattern-sha256"), ImageSha256());
    }

    [SkippableFact]
    public async Task QemuStorageDaemon_ServesTwoQemuRunsInARow()
    {
        Rig.Require();
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await DaemonProcess.StartAsync(QemuStorageDaemon());
        for (var run = 1; run <= 2; run++)
        {
            var guest = Run(Transport.Pci, $"selftest-peer-relisten-{run}", daemon: null);
            guest.RunningDaemons.Add(daemon);
            var result = await Rig.RunAsync(guest, output);

            GuestAssert.Passed(result, "disk_present", "write_1MiB", "read_back");
            Assert.Equal(result.InfoValue("pattern-sha256"), ImageSha256());
            Assert.False(daemon.HasExited, daemon.Log);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static GuestRun Run(Transport transport, string name, DaemonSpec? daemon)
    {
        var run = new GuestRun(transport)
        {
            Name = name,
            Devices = { GuestDevice.VhostUser("qsd", VhostUserDeviceType.Blk, "num-queues=1") },
            Modules = { "virtio_blk" },
            Tools = { "mkfs.ext4", "e2fsck" },
            Script = $"DISK_MIB={DiskMiB}\n" + BlkScript,
        };
        if (daemon is not null)
        {
            run.Daemons.Add(daemon);
        }

        return run;
    }

    private DaemonSpec QemuStorageDaemon() => DaemonSpec.External("qsd", "qemu-storage-daemon",
        "--blockdev", $"driver=file,node-name=disk,filename={Image}",
        "--export", "type=vhost-user-blk,id=export,node-name=disk,writable=on,num-queues=1,"
            + $"addr.type=unix,addr.path={DaemonSpec.SocketPlaceholder}");

    private string ImageSha256()
    {
        var bytes = new byte[1 << 20];
        using var file = File.OpenRead(Image);
        file.ReadExactly(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
