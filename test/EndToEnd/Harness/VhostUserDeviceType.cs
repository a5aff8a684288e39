// QEMU 10's device type names per transport for each vhost-user device
// (shared/reference/devices.md section 1; checked with `qemu-system-x86_64 -device help`).
// Note the irregular names: rng and input have no "-device" suffix on MMIO, blk/scsi neither.
namespace VhostUser.EndToEnd;

/// <summary>A QEMU device type pair: the PCI type and the bare (virtio-mmio) type.</summary>
/// <param name="Pci">Type used on q35, e.g. <c>vhost-user-rng-pci</c>.</param>
/// <param name="Mmio">Type used on microvm, e.g. <c>vhost-user-rng</c>.</param>
public sealed record VhostUserDeviceType(string Pci, string Mmio)
{
    /// <summary>rng (virtio id 4).</summary>
    public static VhostUserDeviceType Rng { get; } = new("vhost-user-rng-pci", "vhost-user-rng");

    /// <summary>blk (virtio id 2); set num-queues explicitly (PCI defaults to one per vCPU).</summary>
    public static VhostUserDeviceType Blk { get; } = new("vhost-user-blk-pci", "vhost-user-blk");

    /// <summary>scsi (virtio id 8).</summary>
    public static VhostUserDeviceType Scsi { get; } = new("vhost-user-scsi-pci", "vhost-user-scsi");

    /// <summary>fs (virtio id 26); needs a <c>tag=</c> property.</summary>
    public static VhostUserDeviceType Fs { get; } = new("vhost-user-fs-pci", "vhost-user-fs-device");

    /// <summary>vsock (virtio id 19).</summary>
    public static VhostUserDeviceType Vsock { get; } = new("vhost-user-vsock-pci", "vhost-user-vsock-device");

    /// <summary>gpio (virtio id 41).</summary>
    public static VhostUserDeviceType Gpio { get; } = new("vhost-user-gpio-pci", "vhost-user-gpio-device");

    /// <summary>i2c (virtio id 34).</summary>
    public static VhostUserDeviceType I2c { get; } = new("vhost-user-i2c-pci", "vhost-user-i2c-device");

    /// <summary>input (virtio id 18).</summary>
    public static VhostUserDeviceType Input { get; } = new("vhost-user-input-pci", "vhost-user-input");

    /// <summary>snd (virtio id 25).</summary>
    public static VhostUserDeviceType Snd { get; } = new("vhost-user-snd-pci", "vhost-user-snd");

    /// <summary>gpu (virtio id 16).</summary>
    public static VhostUserDeviceType Gpu { get; } = new("vhost-user-gpu-pci", "vhost-user-gpu");

    /// <summary>The type name for a transport.</summary>
    public string For(Transport transport) => transport == Transport.Pci ? Pci : Mmio;
}
