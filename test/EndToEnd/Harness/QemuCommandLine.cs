// The QEMU command line of a guest run. Required pieces (guest-testing.md):
//  * shared guest RAM (memory-backend-memfd share=on) for every vhost-user device;
//  * PCI: q35; MMIO: microvm with force-legacy=false (else the device is legacy virtio and a
//    vhost-user back end refuses it), qboot (SeaBIOS would probe an mmio disk with addresses a
//    back end cannot translate) and tsc_early_khz (TSC calibration can hang under a busy TCG);
//  * -no-reboot unless the run reboots on purpose, so a guest panic ends QEMU at once;
//  * microvm has no keyboard controller or ACPI reset register: reboot=t (triple fault) resets it.
using System.Globalization;

namespace VhostUser.EndToEnd;

internal static class QemuCommandLine
{
    public static List<string> Build(GuestRun run, string kernel, string initramfs, string qmpSocket,
        string? markerDisk, Func<string, string> socketPathOf)
    {
        var memory = $"{run.MemoryMiB}M";
        var args = new List<string>
        {
            "-name", "vhostd-" + run.Name,
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-smp", run.Cpus.ToString(CultureInfo.InvariantCulture), "-m", memory,
            "-object", $"memory-backend-memfd,id=mem,size={memory},share=on",
            "-qmp", $"unix:{qmpSocket},server=on,wait=off",
            "-kernel", kernel, "-initrd", initramfs,
        };
        args.AddRange(HostInfo.Accelerator == Accelerator.Kvm
            ? ["-accel", "kvm", "-cpu", "host"]
            : ["-accel", "tcg", "-cpu", "max"]);

        var append = new List<string> { "console=ttyS0", "panic=-1", "loglevel=4" };
        if (run.Transport == Transport.Pci)
        {
            args.AddRange(["-M", "q35,memory-backend=mem"]);
        }
        else
        {
            args.AddRange(["-M", "microvm,memory-backend=mem", "-global", "virtio-mmio.force-legacy=false",
                "-bios", RigPaths.QbootRom]);
            append.Add("reboot=t");
            if (HostInfo.TscKhz is { } khz)
            {
                append.Add($"tsc_early_khz={khz}");
            }
        }

        if (run.Stages == 1)
        {
            args.Add("-no-reboot");
        }
        else
        {
            append.Add($"vhostd.stages={run.Stages}");
        }

        append.AddRange(run.KernelArguments);
        args.AddRange(["-append", string.Join(' ', append)]);

        for (var i = 0; i < run.Devices.Count; i++)
        {
            args.AddRange(run.Devices[i].QemuArguments(run.Transport, i, socketPathOf));
        }

        if (markerDisk is not null)
        {
            // The stage marker disk (rig/guest/init): built-in virtio-blk, found by its serial.
            args.AddRange(["-drive", $"if=none,id=vhostd-marker,file={markerDisk},format=raw"]);
            args.AddRange(["-device", (run.Transport == Transport.Pci ? "virtio-blk-pci" : "virtio-blk-device")
                + ",drive=vhostd-marker,serial=vhostd-marker"]);
        }

        args.AddRange(run.ExtraQemuArguments);
        return args;
    }
}
