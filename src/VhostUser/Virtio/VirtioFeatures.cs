// VirtioFeatures.cs — device-independent feature bits (virtio spec "Reserved Feature Bits";
// ../shared/reference/virtqueues.md §1) plus the two vhost bits that share the same 64-bit word
// on the vhost-user socket (vhost-user-protocol.md §7).
namespace VhostUser.Virtio;

/// <summary>Virtio and vhost feature bits as they appear in GET_FEATURES / SET_FEATURES.</summary>
[Flags]
public enum VirtioFeatures : ulong
{
    /// <summary>No features.</summary>
    None = 0,
    /// <summary>Bit 24: notify when the queue runs empty even if notifications are suppressed (legacy).</summary>
    NotifyOnEmpty = 1UL << 24,
    /// <summary>Bit 26: vhost dirty-page logging (VHOST_F_LOG_ALL).</summary>
    VhostLogAll = 1UL << 26,
    /// <summary>Bit 27: no framing assumptions (legacy; implied by VERSION_1).</summary>
    AnyLayout = 1UL << 27,
    /// <summary>Bit 28: indirect descriptor tables.</summary>
    IndirectDesc = 1UL << 28,
    /// <summary>Bit 29: used_event / avail_event notification suppression.</summary>
    EventIdx = 1UL << 29,
    /// <summary>Bit 30: vhost-user protocol features are supported (never shown to the guest).</summary>
    ProtocolFeatures = 1UL << 30,
    /// <summary>Bit 32: VIRTIO 1.x (little-endian rings and config).</summary>
    Version1 = 1UL << 32,
    /// <summary>Bit 33: addresses are IOVAs translated by a platform IOMMU.</summary>
    AccessPlatform = 1UL << 33,
    /// <summary>Bit 34: packed virtqueue layout.</summary>
    RingPacked = 1UL << 34,
    /// <summary>Bit 35: buffers are used in the order they were made available.</summary>
    InOrder = 1UL << 35,
    /// <summary>Bit 36: platform memory ordering.</summary>
    OrderPlatform = 1UL << 36,
    /// <summary>Bit 37: PCI SR-IOV.</summary>
    SrIov = 1UL << 37,
    /// <summary>Bit 38: driver notifications carry data.</summary>
    NotificationData = 1UL << 38,
    /// <summary>Bit 40: per-queue reset.</summary>
    RingReset = 1UL << 40,
}
