// DriverQueue.Split.cs — the driver's half of a split ring (virtio spec 2.7; virtqueues.md §2–§4):
// a free list of descriptors, chains written into the table (or into an indirect table), heads
// published through the available ring, used elements taken back, and both directions of
// notification suppression.
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

public sealed partial class DriverQueue
{
    private readonly Queue<ushort> _freeDescriptors = new();
    private ushort _availIndex;   // avail.idx as last published (free running)
    private ushort _kickedIndex;  // avail.idx at the last kick decision
    private ushort _lastUsed;     // next used.idx entry to take back

    private static VirtqueueLayout AllocateSplit(SharedGuestMemory memory, int size) => new(
        size,
        memory.Allocate((ulong)SplitRing.DescriptorTableSize(size), SplitRing.DescriptorAlignment),
        memory.Allocate((ulong)SplitRing.AvailRingSize(size), SplitRing.AvailAlignment),
        memory.Allocate((ulong)SplitRing.UsedRingSize(size), SplitRing.UsedAlignment));

    private void InitializeSplit(ushort startIndex)
    {
        for (int i = 0; i < Size; i++)
        {
            _freeDescriptors.Enqueue((ushort)i);
        }
        _availIndex = _kickedIndex = _lastUsed = startIndex;
        WriteUInt16(AvailField(SplitRing.AvailIndexOffset), startIndex);
        WriteUInt16(UsedField(SplitRing.UsedIndexOffset), startIndex);
    }

    private bool CanOfferSplit(int descriptors) => _freeDescriptors.Count >= descriptors;

    private ushort OfferSplit(ReadOnlySpan<DriverBuffer> buffers, bool indirect)
    {
        ushort head = _freeDescriptors.Dequeue();
        var segments = PlaceBuffers(head, buffers);
        ushort[] descriptors;
        if (indirect)
        {
            var table = TableBlock(head, segments.Length);
            for (int i = 0; i < segments.Length; i++)
            {
                var next = i + 1 < segments.Length ? DescriptorFlags.Next : DescriptorFlags.None;
                _memory.Write(table.Add((ulong)(i * Descriptor.Size)), ToDescriptor(segments[i], next, (ushort)(i + 1)));
            }
            WriteDescriptor(head, new Descriptor(table.Value, (uint)(segments.Length * Descriptor.Size), DescriptorFlags.Indirect, 0));
            descriptors = [head];
        }
        else
        {
            descriptors = new ushort[segments.Length];
            descriptors[0] = head;
            for (int i = 1; i < descriptors.Length; i++)
            {
                descriptors[i] = _freeDescriptors.Dequeue();
            }
            for (int i = 0; i < segments.Length; i++)
            {
                bool last = i + 1 == segments.Length;
                var descriptor = ToDescriptor(segments[i], last ? DescriptorFlags.None : DescriptorFlags.Next, last ? (ushort)0 : descriptors[i + 1]);
                WriteDescriptor(descriptors[i], descriptor);
            }
        }
        Record(head, segments, descriptors, slots: 1);
        PublishHead(head);
        return head;
    }

    private static Descriptor ToDescriptor(ChainSegment segment, DescriptorFlags flags, ushort next) =>
        new(segment.Address, segment.Length, flags | (segment.Writable ? DescriptorFlags.Write : DescriptorFlags.None), next);

    private bool TryTakeUsedSplit(out UsedElement used)
    {
        // Acquire: the element is read only after used.idx says it is there (spec 2.7.8).
        ushort usedIndex = ReadUInt16(UsedField(SplitRing.UsedIndexOffset));
        if (usedIndex == _lastUsed)
        {
            used = default;
            return false;
        }
        used = _memory.Read<UsedElement>(UsedField(SplitRing.UsedEntryOffset(_lastUsed & (Size - 1))));
        _lastUsed++;
        foreach (ushort descriptor in Retire(used.Id).Descriptors)
        {
            _freeDescriptors.Enqueue(descriptor);
        }
        return true;
    }

    private bool NeedsKickSplit()
    {
        ushort old = _kickedIndex;
        _kickedIndex = _availIndex;
        if (EventIdx)
        {
            // Kick iff avail_event lies in [old, new): the device asked to hear about that entry.
            return SplitRing.NeedEvent(ReadUInt16(UsedField(SplitRing.AvailEventOffset(Size))), _availIndex, old);
        }
        return (ReadUInt16(UsedField(SplitRing.UsedFlagsOffset)) & SplitRing.UsedNoNotify) == 0;
    }

    private void EnableInterruptsSplit()
    {
        if (EventIdx)
        {
            SetUsedEvent(_lastUsed); // interrupt as soon as the next used element is published
        }
        else
        {
            SetAvailFlags(0);
        }
    }

    private void DisableInterruptsSplit()
    {
        if (EventIdx)
        {
            // EVENT_IDX has no "off": point used_event half a lap away, as Linux's hack does.
            SetUsedEvent((ushort)(_lastUsed + 0x8000));
        }
        else
        {
            SetAvailFlags(SplitRing.AvailNoInterrupt);
        }
    }

    private GuestAddress AvailField(int offset) => Layout.DriverArea.Add((ulong)offset);

    private GuestAddress UsedField(int offset) => Layout.DeviceArea.Add((ulong)offset);

    private void RequireSplit()
    {
        if (IsPacked)
        {
            throw new InvalidOperationException("this operation is for split rings");
        }
    }
}
