namespace VhostUser.Virtio;

/// <summary>What the guest (or a device) did wrong with a virtqueue (virtqueues.md §5).</summary>
public enum VirtqueueError
{
    /// <summary>The queue size is zero, too large, or (split) not a power of two.</summary>
    InvalidQueueSize,
    /// <summary>A ring area is not inside guest memory (or crosses a region end).</summary>
    RingNotMapped,
    /// <summary>A ring area is not aligned as the spec requires.</summary>
    RingMisaligned,
    /// <summary>avail.idx moved more than the queue size ahead of the device.</summary>
    AvailIndexOutOfRange,
    /// <summary>A head index from the available ring is ≥ the queue size.</summary>
    HeadOutOfRange,
    /// <summary>A descriptor's next field is outside its table.</summary>
    NextOutOfRange,
    /// <summary>The chain visits more descriptors than its table has: a loop, or too long.</summary>
    ChainTooLong,
    /// <summary>An indirect descriptor inside an indirect table.</summary>
    NestedIndirect,
    /// <summary>An indirect descriptor although INDIRECT_DESC was not negotiated.</summary>
    IndirectNotNegotiated,
    /// <summary>A split descriptor with both INDIRECT and NEXT.</summary>
    IndirectWithNext,
    /// <summary>An indirect table whose length is zero, not a multiple of 16, or too large.</summary>
    InvalidIndirectLength,
    /// <summary>A buffer (or indirect table) is not inside guest memory.</summary>
    DescriptorNotMapped,
    /// <summary>The chain's total length exceeds 2^32 - 1 bytes.</summary>
    ChainTooLarge,
    /// <summary>A device-readable descriptor after a device-writable one.</summary>
    ReadableAfterWritable,
    /// <summary>A packed buffer id ≥ the queue size.</summary>
    InvalidBufferId,
    /// <summary>A packed buffer id that is already in flight.</summary>
    DuplicateBufferId,
    /// <summary>The device completed a chain that is not in flight (a device bug).</summary>
    ChainNotInFlight,
    /// <summary>The queue was used before it was configured, or after it broke.</summary>
    NotReady,
    /// <summary>The inflight tracking area (from the front end) is inconsistent or too small.</summary>
    InvalidInflightArea,
}
