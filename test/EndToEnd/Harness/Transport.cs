// The two ways a vhost-user device reaches the guest (design README 1.10: every device is tested
// over both). PCI: q35 with the "-pci" device type. MMIO: microvm with the bare device type.
namespace VhostUser.EndToEnd;

/// <summary>How the device is attached to the guest.</summary>
public enum Transport
{
    /// <summary>q35 machine, <c>vhost-user-…-pci</c> device types.</summary>
    Pci,

    /// <summary>microvm machine (virtio-mmio described by ACPI), the bare device types.</summary>
    Mmio,
}
