namespace VhostUser.Virtio;

/// <summary>
/// One buffer of a descriptor chain, copied out of the ring when the chain was popped and
/// already checked to lie inside guest memory at that time.
/// </summary>
/// <param name="Address">Guest-physical address.</param>
/// <param name="Length">Length in bytes (never zero: zero-length descriptors are skipped).</param>
/// <param name="Writable">Device-writable (the WRITE flag).</param>
public readonly record struct ChainSegment(ulong Address, uint Length, bool Writable);
