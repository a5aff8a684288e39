// InflightQueue.Packed.cs — inflight tracking for a packed ring (rst "Inflight I/O tracking",
// QueueRegionPacked). Used descriptors overwrite ring slots of chains still in flight, so every
// popped descriptor is copied into an entry taken from a free list (linked by `next`); a chain's
// head entry holds its counter, descriptor count and last entry. Completion returns the chain's
// entries to the free list and moves used_idx; the old_* fields are the committed state, so a
// crash between a change and its commit is rolled back (or, if the used descriptor already
// reached the ring, rolled forward) when the next process starts the ring.
//
// The rst keeps no avail position: popping is in ring order and every completion advances the
// used position by the chain's descriptor count, so the next avail slot is the used slot plus
// the descriptors of the chains still in flight (RecoverPacked returns that count).
namespace VhostUser.Virtio;

public sealed partial class InflightQueue
{
    private ushort[] _headById = [];
    private int _popHead = -1;
    private int _popLast;
    private int _popCount;

    /// <summary>
    /// Reads the region when a packed ring of <paramref name="size"/> starts. A fresh (or
    /// mismatched) region is initialised at the given used position. A valid one is rolled
    /// back or forward to a consistent state, its used position returned, and the head entries
    /// of chains in flight written to <paramref name="resubmit"/> in fetch order, with the
    /// number of ring slots they occupy in <paramref name="inflightSlots"/>.
    /// </summary>
    public InflightRecovery RecoverPacked(int size, ReadOnlySpan<byte> descriptorRing, ref ushort usedSlot, ref bool usedWrap,
        Span<ushort> resubmit, out int count, out int inflightSlots)
    {
        CheckSize(size);
        EnsurePackedState(size);
        count = 0;
        inflightSlots = 0;
        var header = Span(0, InflightLayout.PackedHeaderSize);
        ushort version = ReadU16(header, InflightLayout.VersionOffset);
        if (version == 0 || ReadU16(header, InflightLayout.DescNumOffset) != size)
        {
            InitializePacked(size, usedSlot, usedWrap);
            return version == 0 ? InflightRecovery.Fresh : InflightRecovery.Reinitialized;
        }
        CommitOrRollBack(header, size, descriptorRing);
        usedSlot = ReadU16(header, InflightLayout.PackedUsedIndexOffset);
        usedWrap = ReadU8(header, InflightLayout.PackedUsedWrapOffset) != 0;
        if (usedSlot >= size)
        {
            throw new VirtqueueException(VirtqueueError.InvalidInflightArea, $"inflight used_idx {usedSlot} is outside the {size}-entry ring");
        }
        ClearFreeList(header, size);
        EnsureSortKeys(size);
        ulong max = 0;
        for (int i = 0; i < size; i++)
        {
            var e = PackedEntry(i);
            if (ReadU8(e, InflightLayout.PackedInflightOffset) == 0)
            {
                continue;
            }
            int num = ReadU16(e, InflightLayout.PackedNumOffset);
            inflightSlots += num;
            if (num == 0 || inflightSlots > size)
            {
                throw new VirtqueueException(VirtqueueError.InvalidInflightArea,
                    $"inflight entry {i} holds {num} descriptors ({inflightSlots} in flight on a {size}-entry ring)");
            }
            ulong counter = ReadU64(e, InflightLayout.PackedCounterOffset);
            _sortKeys[count] = counter;
            resubmit[count++] = (ushort)i;
            max = Math.Max(max, counter);
        }
        SortByCounter(resubmit, count);
        _counter = max + 1;
        return InflightRecovery.Recovered;
    }

    /// <summary>Starts recording the descriptors of a chain being popped.</summary>
    public void PackedBeginPop()
    {
        _popHead = ReadU16(Span(0, InflightLayout.PackedHeaderSize), InflightLayout.PackedFreeHeadOffset);
        _popCount = 0;
    }

    /// <summary>Copies one descriptor of the chain being popped into the next free entry.</summary>
    public void PackedRecord(in PackedDescriptor d)
    {
        var header = Span(0, InflightLayout.PackedHeaderSize);
        int entry = ReadU16(header, InflightLayout.PackedFreeHeadOffset);
        if (entry >= _headById.Length)
        {
            throw new VirtqueueException(VirtqueueError.InvalidInflightArea, $"inflight free list points at entry {entry}");
        }
        var e = PackedEntry(entry);
        WriteU64(e, InflightLayout.PackedAddressOffset, d.Address);
        System.Runtime.InteropServices.MemoryMarshal.Write(e.Slice(InflightLayout.PackedLengthOffset, 4), d.Length);
        WriteU16(e, InflightLayout.PackedIdOffset, d.Id);
        WriteU16(e, InflightLayout.PackedFlagsOffset, (ushort)d.Flags);
        WriteU16(header, InflightLayout.PackedFreeHeadOffset, ReadU16(e, InflightLayout.PackedNextOffset));
        _popLast = entry;
        _popCount++;
    }

    /// <summary>The chain with buffer id <paramref name="id"/> is popped: its head entry goes in flight.</summary>
    public void PackedCommitPop(ushort id)
    {
        var head = PackedEntry(_popHead);
        WriteU16(head, InflightLayout.PackedNumOffset, (ushort)_popCount);
        WriteU16(head, InflightLayout.PackedLastOffset, (ushort)_popLast);
        WriteU64(head, InflightLayout.PackedCounterOffset, _counter++);
        WriteU8(head, InflightLayout.PackedInflightOffset, 1);
        var header = Span(0, InflightLayout.PackedHeaderSize);
        WriteU16(header, InflightLayout.PackedOldFreeHeadOffset, ReadU16(header, InflightLayout.PackedFreeHeadOffset));
        _headById[id] = (ushort)_popHead;
        _popHead = -1;
    }

    /// <summary>A resubmitted chain (head entry <paramref name="head"/>) is in flight again as buffer <paramref name="id"/>.</summary>
    public void PackedResubmitted(ushort id, int head) => _headById[id] = (ushort)head;

    /// <summary>The stored descriptor of entry <paramref name="entry"/> and the entry after it in its chain.</summary>
    public PackedDescriptor PackedStored(int entry, out int next)
    {
        if ((uint)entry >= (uint)_headById.Length)
        {
            throw new VirtqueueException(VirtqueueError.InvalidInflightArea, $"inflight chain link to entry {entry}");
        }
        var e = PackedEntry(entry);
        next = ReadU16(e, InflightLayout.PackedNextOffset);
        return new PackedDescriptor(ReadU64(e, InflightLayout.PackedAddressOffset),
            System.Runtime.InteropServices.MemoryMarshal.Read<uint>(e.Slice(InflightLayout.PackedLengthOffset, 4)),
            ReadU16(e, InflightLayout.PackedIdOffset), (DescriptorFlags)ReadU16(e, InflightLayout.PackedFlagsOffset));
    }

    /// <summary>Descriptor count of the chain whose head is <paramref name="head"/>.</summary>
    public int PackedChainLength(int head) => ReadU16(PackedEntry(head), InflightLayout.PackedNumOffset);

    /// <summary>Before the used descriptor of <paramref name="id"/> is written: free its entries, move used_idx.</summary>
    public void PackedBeforeUsed(ushort id, ushort newUsedSlot, bool newUsedWrap)
    {
        var header = Span(0, InflightLayout.PackedHeaderSize);
        int head = _headById[id];
        int last = ReadU16(PackedEntry(head), InflightLayout.PackedLastOffset);
        if (last < _headById.Length)
        {
            WriteU16(PackedEntry(last), InflightLayout.PackedNextOffset, ReadU16(header, InflightLayout.PackedFreeHeadOffset));
        }
        WriteU16(header, InflightLayout.PackedFreeHeadOffset, (ushort)head);
        WriteU16(header, InflightLayout.PackedUsedIndexOffset, newUsedSlot);
        WriteU8(header, InflightLayout.PackedUsedWrapOffset, newUsedWrap ? (byte)1 : (byte)0);
    }

    /// <summary>After the used descriptor of <paramref name="id"/> was published: clear it and commit.</summary>
    public void PackedAfterUsed(ushort id)
    {
        WriteU8(PackedEntry(_headById[id]), InflightLayout.PackedInflightOffset, 0);
        var header = Span(0, InflightLayout.PackedHeaderSize);
        WriteU16(header, InflightLayout.PackedOldFreeHeadOffset, ReadU16(header, InflightLayout.PackedFreeHeadOffset));
        WriteU16(header, InflightLayout.PackedOldUsedIndexOffset, ReadU16(header, InflightLayout.PackedUsedIndexOffset));
        WriteU8(header, InflightLayout.PackedOldUsedWrapOffset, ReadU8(header, InflightLayout.PackedUsedWrapOffset));
    }

    /// <summary>Every in-flight chain was given back to the driver (rewind): nothing is in flight.</summary>
    public void PackedForgetAll(int size, ushort usedSlot, bool usedWrap) => InitializePacked(size, usedSlot, usedWrap);

    /// <summary>
    /// rst "When reconnecting", step 1: an update that moved used_idx but was not committed is
    /// committed if its used descriptor reached the ring (the slot at old_used_idx no longer
    /// looks available for the old wrap counter); step 2 rolls the rest back.
    /// </summary>
    private static void CommitOrRollBack(Span<byte> header, int size, ReadOnlySpan<byte> descriptorRing)
    {
        ushort used = ReadU16(header, InflightLayout.PackedUsedIndexOffset);
        ushort oldUsed = ReadU16(header, InflightLayout.PackedOldUsedIndexOffset);
        byte wrap = ReadU8(header, InflightLayout.PackedUsedWrapOffset);
        byte oldWrap = ReadU8(header, InflightLayout.PackedOldUsedWrapOffset);
        if ((used != oldUsed || wrap != oldWrap) && oldUsed < size)
        {
            var flags = (DescriptorFlags)System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(
                descriptorRing.Slice(PackedRing.DescriptorOffset(oldUsed) + PackedRing.FlagsOffsetInDescriptor, 2));
            if (!PackedRing.IsAvailable(flags, oldWrap != 0))
            {
                WriteU16(header, InflightLayout.PackedOldFreeHeadOffset, ReadU16(header, InflightLayout.PackedFreeHeadOffset));
                WriteU16(header, InflightLayout.PackedOldUsedIndexOffset, used);
                WriteU8(header, InflightLayout.PackedOldUsedWrapOffset, wrap);
            }
        }
        WriteU16(header, InflightLayout.PackedFreeHeadOffset, ReadU16(header, InflightLayout.PackedOldFreeHeadOffset));
        WriteU16(header, InflightLayout.PackedUsedIndexOffset, ReadU16(header, InflightLayout.PackedOldUsedIndexOffset));
        WriteU8(header, InflightLayout.PackedUsedWrapOffset, ReadU8(header, InflightLayout.PackedOldUsedWrapOffset));
    }

    /// <summary>rst step 3: entries on the free list are not in flight (a pop that was rolled back).</summary>
    private void ClearFreeList(Span<byte> header, int size)
    {
        int entry = ReadU16(header, InflightLayout.PackedFreeHeadOffset);
        for (int steps = 0; steps < size && entry < size; steps++)
        {
            var e = PackedEntry(entry);
            WriteU8(e, InflightLayout.PackedInflightOffset, 0);
            entry = ReadU16(e, InflightLayout.PackedNextOffset);
        }
    }

    private void InitializePacked(int size, ushort usedSlot, bool usedWrap)
    {
        EnsurePackedState(size);
        var header = Span(0, InflightLayout.PackedHeaderSize);
        WriteU16(header, InflightLayout.VersionOffset, 0);
        Span(InflightLayout.PackedHeaderSize, InflightLayout.PackedEntrySize * size).Clear();
        for (int i = 0; i < size; i++)
        {
            WriteU16(PackedEntry(i), InflightLayout.PackedNextOffset, (ushort)(i + 1)); // entry size-1 links to size: the end
        }
        WriteU64(header, InflightLayout.FeaturesOffset, 0);
        WriteU16(header, InflightLayout.DescNumOffset, (ushort)size);
        WriteU16(header, InflightLayout.PackedFreeHeadOffset, 0);
        WriteU16(header, InflightLayout.PackedOldFreeHeadOffset, 0);
        WriteU16(header, InflightLayout.PackedUsedIndexOffset, usedSlot);
        WriteU16(header, InflightLayout.PackedOldUsedIndexOffset, usedSlot);
        WriteU8(header, InflightLayout.PackedUsedWrapOffset, usedWrap ? (byte)1 : (byte)0);
        WriteU8(header, InflightLayout.PackedOldUsedWrapOffset, usedWrap ? (byte)1 : (byte)0);
        WriteU16(header, InflightLayout.VersionOffset, InflightLayout.Version); // last: the region counts from here
        _counter = 1;
    }

    private void EnsurePackedState(int size)
    {
        if (_headById.Length != size)
        {
            _headById = new ushort[size];
        }
    }

    private Span<byte> PackedEntry(int index) => Span(InflightLayout.PackedEntryOffset(index), InflightLayout.PackedEntrySize);
}
