// SplitRing.cs — split virtqueue layout: offsets and sizes of every area and field
// (virtio spec 2.7, virtqueues.md §2). One source of truth for the device side (Virtqueue) and
// the driver side (the front end's DriverQueue).
namespace VhostUser.Virtio;

/// <summary>Split ring layout arithmetic.</summary>
public static class SplitRing
{
    /// <summary>Largest queue size the spec allows.</summary>
    public const int MaxSize = 32768;
    /// <summary>Descriptor table alignment.</summary>
    public const int DescriptorAlignment = 16;
    /// <summary>Available ring alignment.</summary>
    public const int AvailAlignment = 2;
    /// <summary>Used ring alignment.</summary>
    public const int UsedAlignment = 4;

    /// <summary>avail.flags offset.</summary>
    public const int AvailFlagsOffset = 0;
    /// <summary>avail.idx offset.</summary>
    public const int AvailIndexOffset = 2;
    /// <summary>avail.ring[0] offset.</summary>
    public const int AvailRingOffset = 4;
    /// <summary>used.flags offset.</summary>
    public const int UsedFlagsOffset = 0;
    /// <summary>used.idx offset.</summary>
    public const int UsedIndexOffset = 2;
    /// <summary>used.ring[0] offset.</summary>
    public const int UsedRingOffset = 4;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT.</summary>
    public const ushort AvailNoInterrupt = 1;
    /// <summary>VIRTQ_USED_F_NO_NOTIFY.</summary>
    public const ushort UsedNoNotify = 1;

    /// <summary>Bytes of the descriptor table.</summary>
    public static int DescriptorTableSize(int queueSize) => Descriptor.Size * queueSize;

    /// <summary>Bytes of the available ring including used_event.</summary>
    public static int AvailRingSize(int queueSize) => 6 + 2 * queueSize;

    /// <summary>Bytes of the used ring including avail_event.</summary>
    public static int UsedRingSize(int queueSize) => 6 + UsedElement.Size * queueSize;

    /// <summary>Offset of avail.ring[slot].</summary>
    public static int AvailEntryOffset(int slot) => AvailRingOffset + 2 * slot;

    /// <summary>Offset of used.ring[slot].</summary>
    public static int UsedEntryOffset(int slot) => UsedRingOffset + UsedElement.Size * slot;

    /// <summary>Offset of used_event (at the end of the available ring).</summary>
    public static int UsedEventOffset(int queueSize) => AvailRingOffset + 2 * queueSize;

    /// <summary>Offset of avail_event (at the end of the used ring).</summary>
    public static int AvailEventOffset(int queueSize) => UsedRingOffset + UsedElement.Size * queueSize;

    /// <summary>vring_need_event: true iff <paramref name="eventIndex"/> is in (old, new] mod 2^16.</summary>
    public static bool NeedEvent(ushort eventIndex, ushort newIndex, ushort oldIndex) =>
        (ushort)(newIndex - eventIndex - 1) < (ushort)(newIndex - oldIndex);

    /// <summary>True if a split queue size is valid: a power of two from 1 to 32768.</summary>
    public static bool IsValidSize(int size) => size is > 0 and <= MaxSize && (size & (size - 1)) == 0;
}
