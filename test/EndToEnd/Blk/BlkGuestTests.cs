// vhost-user-blk served by out/vhost-user-blk to a stock guest's virtio_blk driver, over PCI and
// MMIO: an ext4 file system made, filled, synced and checked; a dd pattern bit-exact in the guest
// and in the host image; blkdiscard and blkdiscard -z reaching the host file; a read-only disk;
// four queues all carrying I/O; an online resize; and fio --verify with several jobs while the
// daemon is SIGKILLed and restarted twice (QEMU's chardev reconnects; the inflight area makes
// the new daemon resubmit what the killed one had in flight).
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VhostUser.EndToEnd.Tests.Blk;

[Collection(GuestCollection.Name)]
[Trait("Category", "Guest")]
public sealed partial class BlkGuestTests(ITestOutputHelper output)
{
    private const string Serial = "vhostd-blk-e2e";

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Blk_GuestMakesExt4AndPatternReadsBackBitExact(Transport transport)
    {
        using var disk = new BlkGuest();
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "blk-ext4",
            Daemons = { disk.Daemon("--serial", Serial) },
            Devices = { BlkGuest.Device() },
            Modules = { "virtio_blk", "ext4", "crc32c_generic" },
            Tools = { "mkfs.ext4", "e2fsck" },
            Script = $"DISK_MIB={BlkGuest.DiskMiB}\nSERIAL={Serial}\n" + """
                check disk wait_for /dev/vda 10
                check size test "$(cat /sys/block/vda/size)" = "$((DISK_MIB * 2048))"
                check serial test "$(cat /sys/block/vda/serial)" = "$SERIAL"
                check mkfs mkfs.ext4 -q -F /dev/vda
                mkdir -p /mnt
                check mount mount -t ext4 /dev/vda /mnt
                check mounted grep -q ' /mnt ext4 ' /proc/mounts
                i=0
                while [ $i -lt 24 ]; do head -c $((i * 7919 + 4096)) /dev/urandom > /mnt/file$i; i=$((i + 1)); done
                mkdir /mnt/dir && cp /mnt/file3 /mnt/dir/copy
                sha256sum /mnt/file* /mnt/dir/copy > /tmp/sums
                check sync sync
                check umount umount /mnt
                check fsck e2fsck -fn /dev/vda
                echo 3 > /proc/sys/vm/drop_caches
                check mount_again mount -t ext4 -o ro /dev/vda /mnt
                check files_intact sha256sum -c /tmp/sums
                umount /mnt
                head -c 1048576 /dev/urandom > /tmp/pattern
                check dd_write dd if=/tmp/pattern of=/dev/vda bs=65536 seek=80 conv=fsync
                echo 3 > /proc/sys/vm/drop_caches
                want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
                got=$(dd if=/dev/vda bs=65536 skip=80 count=16 2>/dev/null | sha256sum | cut -d' ' -f1)
                info pattern-sha256 "$want"
                if [ "$want" = "$got" ]; then pass dd_read_back; else fail dd_read_back "read $got, wrote $want"; fi
                """,
        }, output);

        GuestAssert.Passed(result, "disk", "size", "serial", "mkfs", "mount", "mounted", "sync", "umount", "fsck", "mount_again",
            "files_intact", "dd_write", "dd_read_back");
        Assert.Equal(result.InfoValue("pattern-sha256"), disk.Sha256(80 * 65536, 1 << 20));
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Blk_BlkdiscardPunchesAndZeroesTheHostFile(Transport transport)
    {
        using var disk = new BlkGuest(fill: 0xAA);
        long allocatedBefore = disk.AllocatedBytes();
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "blk-discard",
            Daemons = { disk.Daemon() },
            Devices = { BlkGuest.Device() },
            Modules = { "virtio_blk" },
            Tools = { "blkdiscard" },
            Script = """
                check disk wait_for /dev/vda 10
                check discard_offered test "$(cat /sys/block/vda/queue/discard_max_bytes)" -gt 0
                check write_zeroes_offered test "$(cat /sys/block/vda/queue/write_zeroes_max_bytes)" -gt 0
                check blkdiscard blkdiscard -o 1048576 -l 4194304 /dev/vda
                check blkdiscard_zero blkdiscard -z -o 8388608 -l 4194304 /dev/vda
                echo 3 > /proc/sys/vm/drop_caches
                head -c 4194304 /dev/zero > /tmp/zero
                dd if=/dev/vda of=/tmp/z bs=1048576 skip=8 count=4 2>/dev/null
                check zeroes_read_back cmp /tmp/zero /tmp/z
                """,
        }, output);

        GuestAssert.Passed(result, "disk", "discard_offered", "write_zeroes_offered", "blkdiscard", "blkdiscard_zero", "zeroes_read_back");
        Assert.All(disk.Read(1 << 20, 4 << 20), b => Assert.Equal(0, b));
        Assert.All(disk.Read(8 << 20, 4 << 20), b => Assert.Equal(0, b));
        Assert.Equal(0xAA, disk.Read((1 << 20) - 1, 1)[0]);
        Assert.Equal(0xAA, disk.Read(5 << 20, 1)[0]);
        Assert.Equal(0xAA, disk.Read(12 << 20, 1)[0]);
        long punched = allocatedBefore - disk.AllocatedBytes();
        output.WriteLine($"host image: {allocatedBefore} bytes allocated before, {punched} fewer after");
        Assert.True(punched >= 4 << 20, $"blkdiscard punched only {punched} bytes out of the host file");
    }

    [SkippableFact]
    public async Task Blk_ReadOnly_GuestSeesAReadOnlyDisk()
    {
        using var disk = new BlkGuest(fill: 0x5C);
        string before = disk.Sha256(0, 4 << 20);
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "blk-readonly",
            Daemons = { disk.Daemon("--read-only") },
            Devices = { BlkGuest.Device() },
            Modules = { "virtio_blk" },
            Script = """
                check disk wait_for /dev/vda 10
                check ro_flag test "$(cat /sys/block/vda/ro)" = 1
                check read dd if=/dev/vda of=/dev/null bs=1048576 count=4
                check write_refused sh -c '! dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null'
                """,
        }, output);

        GuestAssert.Passed(result, "disk", "ro_flag", "read", "write_refused");
        Assert.Equal(before, disk.Sha256(0, 4 << 20));
    }

    [SkippableFact]
    public async Task Blk_FourQueues_GuestHasFourAndEveryQueueCarriesIo()
    {
        using var disk = new BlkGuest();
        Rig.Require("blk");
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await BlkDaemon.StartAsync(disk.Directory, "--blk-file", disk.ImagePath, "--num-queues", "4");
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "blk-4queues",
            Cpus = 4,
            Modules = { "virtio_blk" },
            Script = """
                check disk wait_for /dev/vda 10
                check mq_queues test "$(ls /sys/block/vda/mq | wc -l)" = 4
                for cpu in 0 1 2 3; do
                    taskset -c $cpu dd if=/dev/vda of=/dev/null bs=65536 skip=$((cpu * 128)) count=128 2>/dev/null &
                    taskset -c $cpu dd if=/dev/zero of=/dev/vda bs=65536 seek=$((512 + cpu * 64)) count=64 conv=fsync 2>/dev/null &
                done
                wait
                pass io_on_every_cpu
                """,
        }.WithArguments(BlkGuest.ReconnectingDevice(Transport.Pci, daemon.SocketPath, queues: 4)), output);
        GuestAssert.Passed(result, "disk", "mq_queues", "io_on_every_cpu");
        await daemon.DisposeAsync(); // SIGTERM: the connection is gone already; the counts were logged at its end

        var served = QueueCounts(daemon.Log);
        output.WriteLine("requests per queue: " + string.Join(' ', served.Select(kv => $"q{kv.Key}={kv.Value}")));
        for (int q = 0; q < 4; q++)
        {
            Assert.True(served.GetValueOrDefault(q) > 0, $"queue {q} carried no requests\n{daemon.Log}");
        }
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Blk_ImageGrowsAndSighup_GuestSeesTheNewSizeWithoutReboot(Transport transport)
    {
        using var disk = new BlkGuest();
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await BlkDaemon.StartAsync(disk.Directory, "--blk-file", disk.ImagePath);
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "blk-resize",
            Modules = { "virtio_blk" },
            OnSerialLine = (_, line) =>
            {
                if (line.Contains("VHOSTD-INFO resize-ready", StringComparison.Ordinal))
                {
                    using (var image = File.OpenWrite(disk.ImagePath))
                    {
                        image.SetLength((long)BlkGuest.DiskMiB * 2 << 20);
                    }
                    daemon.HangUp();
                }
                return Task.CompletedTask;
            },
            Script = $"DISK_MIB={BlkGuest.DiskMiB}\n" + """
                check disk wait_for /dev/vda 10
                check size_before test "$(cat /sys/block/vda/size)" = "$((DISK_MIB * 2048))"
                info resize-ready 1
                n=0
                while [ "$(cat /sys/block/vda/size)" = "$((DISK_MIB * 2048))" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
                check size_after test "$(cat /sys/block/vda/size)" = "$((DISK_MIB * 4096))"
                check write_new_space dd if=/dev/zero of=/dev/vda bs=65536 seek=$((DISK_MIB * 16 + 8)) count=16 conv=fsync
                """,
        }.WithArguments(BlkGuest.ReconnectingDevice(transport, daemon.SocketPath)), output);

        GuestAssert.Passed(result, "disk", "size_before", "size_after", "write_new_space");
        Assert.Contains("config change sent to the front end: True", daemon.Log, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Blk_FioVerifyWhileDaemonKilledTwice_NoErrorNoLostWrite(Transport transport)
    {
        using var disk = new BlkGuest();
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await BlkDaemon.StartAsync(disk.Directory, "--blk-file", disk.ImagePath, "--direct");
        var clock = Stopwatch.StartNew();
        var events = new List<string>();
        Task? killer = null;
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "blk-fio-kill",
            Timeout = TimeSpan.FromSeconds(400),
            Modules = { "virtio_blk" },
            Tools = { "fio" },
            OnSerialLine = (_, line) =>
            {
                if (line.Contains("VHOSTD-INFO fio-started", StringComparison.Ordinal))
                {
                    events.Add($"{clock.Elapsed.TotalSeconds:0.0}s fio started");
                    killer = KillTwiceAsync(daemon, events, clock);
                }
                else if (line.Contains("VHOSTD-INFO fio-finished", StringComparison.Ordinal))
                {
                    events.Add($"{clock.Elapsed.TotalSeconds:0.0}s fio finished");
                }
                return Task.CompletedTask;
            },
            Script = """
                check disk wait_for /dev/vda 10
                # CONFIG_WCE: the guest switches the cache to write-through (SET_CONFIG writeback=0);
                # every write then carries RWF_DSYNC, so more of them are in flight when the kill comes.
                check write_through sh -c 'echo "write through" > /sys/block/vda/cache_type'
                check cache_type grep -q "write through" /sys/block/vda/cache_type
                info fio-started 1
                fio --name=verify --filename=/dev/vda --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
                    --numjobs=4 --size=8M --offset_increment=8M --loops=10 --verify=crc32c --verify_fatal=1 --do_verify=1 \
                    --group_reporting --output=/tmp/fio.out > /dev/null 2>&1
                rc=$?
                info fio-finished "$rc"
                if [ "$rc" = 0 ] && ! grep -q 'err=[ ]*[1-9]' /tmp/fio.out; then pass fio_verify; else fail fio_verify "rc $rc: $(grep -E 'err=|verify' /tmp/fio.out | head -n 3 | tr '\n' ' ')"; fi
                grep -E 'WRITE:|READ:' /tmp/fio.out | while read -r l; do info fio "$l"; done
                if dmesg | grep -qiE 'I/O error|blk_update_request|virtio_blk.*error'; then fail no_io_errors "$(dmesg | grep -iE 'I/O error' | head -n 2 | tr '\n' ' ')"; else pass no_io_errors; fi
                """,
        }.WithArguments(BlkGuest.ReconnectingDevice(transport, daemon.SocketPath)), output);
        if (killer is not null)
        {
            await killer;
        }

        output.WriteLine(string.Join('\n', events));
        GuestAssert.Passed(result, "disk", "write_through", "cache_type", "fio_verify", "no_io_errors");
        Assert.Contains("cache mode set by the driver: write through", daemon.Log, StringComparison.Ordinal);
        // QEMU never sends SET_CONFIG again: each restarted daemon learns write-through from the inflight area.
        Assert.True(CacheRestored().Count(daemon.Log) >= 2, $"a restarted daemon did not restore write-through\n{daemon.Log}");
        Assert.Equal(2, daemon.Restarts);
        Assert.True(events.FindIndex(e => e.EndsWith("fio finished", StringComparison.Ordinal)) > events.FindLastIndex(e => e.Contains("restarted", StringComparison.Ordinal)),
            "fio finished before both kills happened: the kills did not hit guest I/O\n" + string.Join('\n', events));
        var recovered = Recovered().Matches(daemon.Log).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        output.WriteLine($"chains resubmitted after each restart: {string.Join(", ", recovered)}");
        Assert.True(recovered.Count >= 2, $"the restarted daemons did not recover from the inflight area\n{daemon.Log}");
    }

    private static async Task KillTwiceAsync(BlkDaemon daemon, List<string> events, Stopwatch clock)
    {
        for (int i = 1; i <= 2; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(i == 1 ? 2 : 4));
            await daemon.RestartAsync(TimeSpan.FromMilliseconds(300));
            events.Add($"{clock.Elapsed.TotalSeconds:0.0}s daemon killed (SIGKILL) and restarted ({i})");
        }
    }

    private static Dictionary<int, long> QueueCounts(string log) =>
        QueueServed().Matches(log).GroupBy(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));

    [GeneratedRegex(@"queue (\d+): (\d+) requests served")]
    private static partial Regex QueueServed();

    [GeneratedRegex(@"inflight area Recovered, (\d+) chains to resubmit")]
    private static partial Regex Recovered();

    [GeneratedRegex(@"cache mode restored from the inflight area \(chosen by the driver before this daemon started\): write through")]
    private static partial Regex CacheRestored();
}
