// Proves the rig itself with devices QEMU emulates (no daemon needed): the guest boots on PCI and
// on MMIO, its driver finds the device, checks report back, a failing check is seen as a failure,
// and multi-stage runs reboot (guest-driven and QMP-driven) while QEMU keeps running.
namespace VhostUser.EndToEnd.Tests.SelfTest;

[Collection(GuestCollection.Name)]
[Trait("Category", "RigSelfTest")]
public sealed class RigSelfTests(ITestOutputHelper output)
{
    private static string ReadOrEmpty(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static GuestDevice BuiltinRng => GuestDevice.Builtin("virtio-rng-pci", "virtio-rng-device");

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task BuiltinVirtioRng_GuestReadsHwrng(Transport transport)
    {
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "selftest-virtio-rng",
            Devices = { BuiltinRng },
            Modules = { "virtio_rng" },
            Script = GuestScripts.RngChecks + "rng_checks\n",
        }, output);

        GuestAssert.Passed(result, "rng_current", "read_1MiB");
    }

    [SkippableFact]
    public async Task NoDevice_RngCheckFails()
    {
        // The same checks without the device must fail: the rig reports a guest FAIL as a failure.
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "selftest-no-device",
            Modules = { "virtio_rng" },
            Script = GuestScripts.RngChecks + "rng_checks\n",
        }, output);

        Assert.True(result.Finished, result.Report());
        Assert.False(result.Succeeded, result.Report());
        var check = Assert.Single(result.Checks);
        Assert.Equal("rng_current", check.Name);
        Assert.False(check.Passed);
        Assert.NotEmpty(result.Verify("rng_current"));
    }

    [SkippableFact]
    public async Task HangingGuest_TimesOutAndIsCleanedUp()
    {
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "selftest-timeout",
            Timeout = TimeSpan.FromSeconds(20),
            Script = "pass started\nsleep 600\n",
        }, output);

        Assert.True(result.TimedOut, result.Report());
        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.StartsWith("timed out", StringComparison.Ordinal));
        var leftover = Directory.EnumerateDirectories("/proc")
            .Select(d => Path.Combine(d, "cmdline"))
            .Where(f => File.Exists(f) && ReadOrEmpty(f).Contains("vhostd-selftest-timeout", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(leftover);
    }

    [SkippableFact]
    public async Task HostTools_RunInTheGuest()
    {
        // The guest tools fetch-assets.sh installs, copied in with their libraries, start.
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "selftest-tools",
            Tools = { "socat", "fio", "mkfs.ext4", "lsblk", "i2cdetect", "gpiodetect", "aplay", "evtest", "sg_inq" },
            Script = """
                check socat socat -V
                check fio fio --version
                check mkfs.ext4 sh -c 'mkfs.ext4 -V 2>&1 | grep -q mke2fs'
                check lsblk lsblk --version
                check i2cdetect sh -c 'i2cdetect -V 2>&1 | grep -q version'
                check gpiodetect gpiodetect --version
                check aplay aplay --version
                check evtest sh -c 'evtest --version 2>&1 | grep -q evtest'
                check sg_inq sg_inq --version
                """,
        }, output);

        GuestAssert.Passed(result, "socat", "fio", "mkfs.ext4", "lsblk", "i2cdetect", "gpiodetect", "aplay", "evtest", "sg_inq");
    }

    [SkippableTheory]
    [InlineData(Transport.Pci)]
    [InlineData(Transport.Mmio)]
    public async Task GuestReboot_SecondStageSeesDevice(Transport transport)
    {
        var result = await Rig.RunAsync(new GuestRun(transport)
        {
            Name = "selftest-reboot",
            Stages = 2,
            Devices = { BuiltinRng },
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

    [SkippableFact]
    public async Task QmpSystemReset_SecondStageRuns()
    {
        // Host-driven reset: stage 1 asks for it with a line, the harness sends QMP system_reset.
        var result = await Rig.RunAsync(new GuestRun(Transport.Pci)
        {
            Name = "selftest-qmp-reset",
            Stages = 2,
            Devices = { BuiltinRng },
            Modules = { "virtio_rng" },
            Script = """
                if [ "$VHOSTD_STAGE" = 1 ]; then
                    pass before_reset
                    info reset-me now
                    sleep 120
                    fail no_reset "the host did not reset the machine"
                fi
                check_contains rng_current_after_reset /sys/class/misc/hw_random/rng_current virtio_rng
                """,
            OnSerialLine = async (session, line) =>
            {
                if (line.Contains("VHOSTD-INFO reset-me", StringComparison.Ordinal))
                {
                    var qmp = await session.GetQmpAsync();
                    await qmp.SystemResetAsync();
                }
            },
        }, output);

        GuestAssert.Passed(result, "before_reset", "rng_current_after_reset");
    }
}
