// vhost-user-rng served by out/vhost-user-rng to a stock guest's virtio_rng driver, over PCI and
// MMIO: the hw_random core picks the device, reads succeed, the rate limit holds, the daemon
// serves a second QEMU after the first went away (re-listen), and the device works again after
// the guest reboots under the same QEMU. No reconnect-ms on the chardev: QEMU 10's vhost-user-rng
// fails to realize with it (guest-testing.md).
namespace VhostUser.EndToEnd.Tests.Rng;

[Collection(GuestCollection.Name)]
[Trait("Category", "Guest")]
public sealed class RngGuestTests(ITestOutputHelper output)
{
    private static GuestDevice RngDevice => GuestDevice.VhostUser("rng", VhostUserDeviceType.Rng);

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Rng_GuestReadsHwrng(Transport transport)
    {
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "rng",
            Daemons = { new DaemonSpec("rng") },
            Devices = { RngDevice },
            Modules = { "virtio_rng" },
            Script = GuestScripts.RngChecks + "rng_checks\n",
        }, output);

        GuestAssert.Passed(result, "rng_current", "read_1MiB");
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Rng_RateLimited_ReadTakesAsLongAsTheLimitRequires(Transport transport)
    {
        const int maxBytes = 4096;
        const int periodMs = 1000;
        const int readBytes = 64 * 1024;
        // The first period's budget may be there at once, and a read may straddle a boundary:
        // allow two periods less than bytes/maxBytes. No limit would read this in well under 1 s.
        var minimum = TimeSpan.FromMilliseconds((((double)readBytes / maxBytes) - 2) * periodMs);
        var maximum = TimeSpan.FromMilliseconds(6.0 * readBytes / maxBytes * periodMs);

        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "rng-rate-limit",
            Daemons = { new DaemonSpec("rng", "--max-bytes", $"{maxBytes}", "--period", $"{periodMs}") },
            Devices = { RngDevice },
            Modules = { "virtio_rng" },
            Script = $$"""
                check_contains rng_current /sys/class/misc/hw_random/rng_current virtio_rng
                timed limited_read sh -c 'head -c {{readBytes}} /dev/hwrng | wc -c > /tmp/n'
                n=$(cat /tmp/n)
                if [ "$n" = {{readBytes}} ]; then pass limited_read; else fail limited_read "read $n of {{readBytes}} bytes"; fi
                """,
        }, output);

        GuestAssert.Passed(result, "rng_current", "limited_read");
        var elapsed = TimeSpan.FromMilliseconds(10 * (result.InfoNumber("limited_read-cs") ?? 0));
        output.WriteLine($"read {readBytes} bytes at --max-bytes {maxBytes} --period {periodMs} in {elapsed.TotalSeconds:0.0} s "
            + $"(allowed {minimum.TotalSeconds:0.0}–{maximum.TotalSeconds:0.0} s)");
        Assert.True(elapsed >= minimum,
            $"the rate limit was not applied: {readBytes} bytes took {elapsed.TotalSeconds:0.00} s, at least {minimum.TotalSeconds:0.0} s expected\n{result.Report()}");
        Assert.True(elapsed <= maximum,
            $"reading was far slower than the limit: {elapsed.TotalSeconds:0.0} s, at most {maximum.TotalSeconds:0.0} s expected\n{result.Report()}");
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Rng_SecondQemuOnSameSocket_IsServed(Transport transport)
    {
        Rig.Require("rng");
        await using var guestLock = await GuestLock.AcquireAsync();
        await using var daemon = await Rig.StartDaemonAsync(new DaemonSpec("rng"));
        for (var run = 1; run <= 2; run++)
        {
            await WaitUntilListeningAsync(daemon, run);
            var result = await Rig.RunAsync(new GuestRun(transport)
            {
                Name = $"rng-relisten-{run}",
                RunningDaemons = { daemon },
                Devices = { RngDevice },
                Modules = { "virtio_rng" },
                Script = GuestScripts.RngChecks + "rng_checks\n",
            }, output);

            GuestAssert.Passed(result, "rng_current", "read_1MiB");
            Assert.False(daemon.HasExited, $"the daemon exited ({daemon.ExitCode}) after QEMU run {run}\n{daemon.Log}");
        }
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task Rng_AfterGuestReboot_DeviceWorksAgain(Transport transport)
    {
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "rng-reboot",
            Stages = 2,
            Daemons = { new DaemonSpec("rng") },
            Devices = { RngDevice },
            Modules = { "virtio_rng" },
            Script = GuestScripts.RngChecks + """
                if [ "$VHOSTD_STAGE" = 1 ]; then
                    rng_checks
                    guest_reboot
                fi
                rng_checks _after_reboot
                """,
        }, output);

        GuestAssert.Passed(result, "rng_current", "read_1MiB", "rng_current_after_reboot", "read_1MiB_after_reboot");
        Assert.Equal(2, result.Boots);
    }

    private static async Task WaitUntilListeningAsync(DaemonProcess daemon, int run)
    {
        // After QEMU disconnects the daemon must listen again (re-listen); give it a few seconds.
        for (var i = 0; i < 100 && !daemon.IsListening() && !daemon.HasExited; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(daemon.IsListening(),
            $"before QEMU run {run} the daemon is not listening on {daemon.SocketPath} (exited: {daemon.HasExited})\n{daemon.Log}");
    }
}
