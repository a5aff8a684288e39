// PackedRing.cs — packed virtqueue layout and the event-suppression structure
// (virtio spec 2.8, virtqueues.md §6).
namespace VhostUser.Virtio;

/// <summary>Packed ring layout arithmetic and constants.</summary>
public static class PackedRing
{
    /// <summary>Largest queue size the spec allows (need not be a power of two).</summary>
    public const int MaxSize = 32768;
    /// <summary>Descriptor ring alignment.</summary>
    public const int DescriptorAlignment = 16;
    /// <summary>Event suppression structure alignment.</summary>
    public const int EventAlignment = 4;
    /// <summary>Event suppression structure size.</summary>
    public const int EventSize = 4;
    /// <summary>off_wrap field offset in the event structure.</summary>
    public const int EventOffWrapOffset = 0;
    /// <summary>flags field offset in the event structure.</summary>
    public const int EventFlagsOffset = 2;

    /// <summary>RING_EVENT_FLAGS_ENABLE.</summary>
    public const ushort EventFlagsEnable = 0;
    /// <summary>RING_EVENT_FLAGS_DISABLE.</summary>
    public const ushort EventFlagsDisable = 1;
    /// <summary>RING_EVENT_FLAGS_DESC (EVENT_IDX only).</summary>
    public const ushort EventFlagsDesc = 2;

    /// <summary>Offset of descriptor <paramref name="slot"/>.</summary>
    public static int DescriptorOffset(int slot) => PackedDescriptor.Size * slot;

    /// <summary>Offset of a descriptor's flags field.</summary>
    public const int FlagsOffsetInDescriptor = 14;

    /// <summary>Bytes of the descriptor ring.</summary>
    public static int DescriptorRingSize(int queueSize) => PackedDescriptor.Size * queueSize;

    /// <summary>True if a descriptor with <paramref name="flags"/> is available for wrap counter <paramref name="wrap"/>.</summary>
    public static bool IsAvailable(DescriptorFlags flags, bool wrap) =>
        ((flags & DescriptorFlags.PackedAvail) != 0) == wrap && ((flags & DescriptorFlags.PackedUsed) != 0) != wrap;

    /// <summary>True if a descriptor with <paramref name="flags"/> was marked used for wrap counter <paramref name="wrap"/>.</summary>
    public static bool IsUsed(DescriptorFlags flags, bool wrap) =>
        ((flags & DescriptorFlags.PackedAvail) != 0) == wrap && ((flags & DescriptorFlags.PackedUsed) != 0) == wrap;

    /// <summary>True if a packed queue size is valid: 1 to 32768.</summary>
    public static bool IsValidSize(int size) => size is > 0 and <= MaxSize;
}
