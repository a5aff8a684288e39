// InflightLayout.cs — the layout of the inflight I/O tracking area (INFLIGHT_SHMFD;
// vhost-user-protocol.md §11, rst "Inflight I/O tracking"): one region per queue, back to back,
// each a header followed by one entry per descriptor. The field offsets are the rst's
// QueueRegionSplit / DescStateSplit and QueueRegionPacked / DescStatePacked structs (C layout,
// natural alignment). The area layout is the back end's choice; ours uses one stride for both
// ring kinds — the packed region's size rounded up to 64 bytes — because QEMU asks for the area
// (GET_INFLIGHT_FD) before it sends SET_FEATURES, when the ring kind is not known yet.
namespace VhostUser.Virtio;

/// <summary>Offsets and sizes of the inflight area.</summary>
public static class InflightLayout
{
    /// <summary>The region version this back end writes; 0 means "never initialised".</summary>
    public const ushort Version = 1;

    // Header fields common to both kinds.
    /// <summary>u64 features (0).</summary>
    public const int FeaturesOffset = 0;
    /// <summary>u16 version.</summary>
    public const int VersionOffset = 8;
    /// <summary>u16 desc_num (the queue size).</summary>
    public const int DescNumOffset = 10;

    // Split header (16 bytes) and DescStateSplit (16 bytes).
    /// <summary>Split header size.</summary>
    public const int SplitHeaderSize = 16;
    /// <summary>u16 last_batch_head.</summary>
    public const int SplitLastBatchHeadOffset = 12;
    /// <summary>u16 used_idx (copy of used->idx).</summary>
    public const int SplitUsedIndexOffset = 14;
    /// <summary>DescStateSplit size.</summary>
    public const int SplitEntrySize = 16;
    /// <summary>u8 inflight.</summary>
    public const int SplitInflightOffset = 0;
    /// <summary>u16 next (last-batch list).</summary>
    public const int SplitNextOffset = 6;
    /// <summary>u64 counter (fetch order).</summary>
    public const int SplitCounterOffset = 8;

    // Packed header (32 bytes: 22 of fields, 7 of padding, 3 implicit) and DescStatePacked (32 bytes).
    /// <summary>Packed header size.</summary>
    public const int PackedHeaderSize = 32;
    /// <summary>u16 free_head.</summary>
    public const int PackedFreeHeadOffset = 12;
    /// <summary>u16 old_free_head.</summary>
    public const int PackedOldFreeHeadOffset = 14;
    /// <summary>u16 used_idx (ring slot).</summary>
    public const int PackedUsedIndexOffset = 16;
    /// <summary>u16 old_used_idx.</summary>
    public const int PackedOldUsedIndexOffset = 18;
    /// <summary>u8 used_wrap_counter.</summary>
    public const int PackedUsedWrapOffset = 20;
    /// <summary>u8 old_used_wrap_counter.</summary>
    public const int PackedOldUsedWrapOffset = 21;
    /// <summary>DescStatePacked size.</summary>
    public const int PackedEntrySize = 32;
    /// <summary>u8 inflight.</summary>
    public const int PackedInflightOffset = 0;
    /// <summary>u16 next (free list and chain links).</summary>
    public const int PackedNextOffset = 2;
    /// <summary>u16 last (entry of the chain's last descriptor).</summary>
    public const int PackedLastOffset = 4;
    /// <summary>u16 num (descriptors in the chain).</summary>
    public const int PackedNumOffset = 6;
    /// <summary>u64 counter.</summary>
    public const int PackedCounterOffset = 8;
    /// <summary>u16 id (buffer id).</summary>
    public const int PackedIdOffset = 16;
    /// <summary>u16 flags.</summary>
    public const int PackedFlagsOffset = 18;
    /// <summary>u32 len.</summary>
    public const int PackedLengthOffset = 20;
    /// <summary>u64 addr.</summary>
    public const int PackedAddressOffset = 24;

    /// <summary>Bytes of one queue's region for <paramref name="queueSize"/> entries (both ring kinds).</summary>
    public static long QueueRegionSize(int queueSize) => AlignUp(PackedHeaderSize + (long)PackedEntrySize * queueSize, 64);

    /// <summary>Bytes of the whole area.</summary>
    public static long AreaSize(int queueCount, int queueSize) => queueCount * QueueRegionSize(queueSize);

    /// <summary>Offset of queue <paramref name="queueIndex"/>'s region in the area.</summary>
    public static long QueueRegionOffset(int queueIndex, int queueSize) => queueIndex * QueueRegionSize(queueSize);

    /// <summary>
    /// Entries a queue region of <paramref name="stride"/> bytes has room for (0 if none). The
    /// back end derives the stride from the area it handed out (mmap_size / num_queues) rather
    /// than from the front end's queue_size: QEMU announces its queue-size property (128 by
    /// default) while a virtio-mmio guest may choose a ring up to 1024 entries.
    /// </summary>
    public static int EntriesPerRegion(long stride) =>
        stride < PackedHeaderSize + PackedEntrySize ? 0 : (int)Math.Min((stride - PackedHeaderSize) / PackedEntrySize, 32768);

    /// <summary>Offset of split entry <paramref name="index"/> in its queue region.</summary>
    public static int SplitEntryOffset(int index) => SplitHeaderSize + SplitEntrySize * index;

    /// <summary>Offset of packed entry <paramref name="index"/> in its queue region.</summary>
    public static int PackedEntryOffset(int index) => PackedHeaderSize + PackedEntrySize * index;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}
