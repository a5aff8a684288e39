// Virtqueue.Split.cs — the split ring (virtio spec 2.7; virtqueues.md §2–§5): reading the
// available ring, walking a chain through direct and indirect tables with every check of
// virtqueues.md §5, publishing used elements, and notification suppression with EVENT_IDX.
using System.Runtime.InteropServices;
using VhostUser.Memory;

namespace VhostUser.Virtio;

public sealed partial class Virtqueue
{
    /// <summary>Largest indirect table accepted: next is a u16, so 65536 entries can be addressed.</summary>
    private const uint MaxIndirectTableBytes = 65536 * Descriptor.Size;

    private bool HasAvailableSplit() =>
        ReadUInt16(_driverArea.Span, SplitRing.AvailIndexOffset) != _nextAvail;

    private bool TryPopSplit(out DescriptorChain chain)
    {
        var avail = _driverArea.Span;
        // Acquire: the ring entries and descriptors are read only after avail.idx (spec 2.7.13).
        ushort availIndex = ReadUInt16(avail, SplitRing.AvailIndexOffset);
        ushort pending = (ushort)(availIndex - _nextAvail);
        if (pending == 0)
        {
            chain = default;
            return false;
        }
        if (pending > Size)
        {
            throw new VirtqueueException(VirtqueueError.AvailIndexOutOfRange,
                $"queue {Index}: guest moved avail.idx from {_nextAvail} to {availIndex} (size {Size})");
        }
        int slot = _nextAvail & (Size - 1);
        ushort head = MemoryMarshal.Read<ushort>(avail.Slice(SplitRing.AvailEntryOffset(slot), 2));
        if (head >= Size)
        {
            throw new VirtqueueException(VirtqueueError.HeadOutOfRange,
                $"queue {Index}: guest says head {head} is available (size {Size})");
        }
        BeginChain(head);
        WalkSplit(head);
        _nextAvail++;
        chain = CommitChain(head, ringSlots: 1);
        _inflight?.SplitPopped(head);
        return true;
    }

    private void WalkSplit(ushort head)
    {
        Span<byte> table = _descriptors.Span;
        int tableSize = Size;
        bool inIndirect = false;
        int index = head;
        int visited = 0;
        while (true)
        {
            // Loop guard: a chain can't visit more descriptors than its table holds (spec 2.7.5.3).
            if (++visited > tableSize)
            {
                throw new VirtqueueException(VirtqueueError.ChainTooLong,
                    $"queue {Index}: chain at head {head} visits more than {tableSize} descriptors (a loop?)");
            }
            // Copy the descriptor out, then validate the copy (design README principle 4).
            var d = MemoryMarshal.Read<Descriptor>(table.Slice(index * Descriptor.Size, Descriptor.Size));
            if ((d.Flags & DescriptorFlags.Indirect) != 0)
            {
                table = OpenIndirectTable(head, d.Address, d.Length, inIndirect, (d.Flags & DescriptorFlags.Next) != 0);
                tableSize = table.Length / Descriptor.Size;
                inIndirect = true;
                index = 0;
                visited = 0;
                continue;
            }
            AppendSegment(head, d.Address, d.Length, (d.Flags & DescriptorFlags.Write) != 0);
            if ((d.Flags & DescriptorFlags.Next) == 0)
            {
                return;
            }
            if (d.Next >= tableSize)
            {
                throw new VirtqueueException(VirtqueueError.NextOutOfRange,
                    $"queue {Index}: descriptor next {d.Next} is outside its {tableSize}-entry table (head {head})");
            }
            index = d.Next;
        }
    }

    /// <summary>Checks an indirect descriptor (virtqueues.md §3) and returns its table.</summary>
    private Span<byte> OpenIndirectTable(ushort head, ulong address, uint length, bool inIndirect, bool hasNext)
    {
        if (inIndirect)
        {
            throw new VirtqueueException(VirtqueueError.NestedIndirect,
                $"queue {Index}: indirect descriptor inside an indirect table (head {head})");
        }
        if (!_indirect)
        {
            throw new VirtqueueException(VirtqueueError.IndirectNotNegotiated,
                $"queue {Index}: indirect descriptor but INDIRECT_DESC was not negotiated (head {head})");
        }
        if (hasNext)
        {
            throw new VirtqueueException(VirtqueueError.IndirectWithNext,
                $"queue {Index}: descriptor has both INDIRECT and NEXT (head {head})");
        }
        if (length == 0 || length % Descriptor.Size != 0 || length > MaxIndirectTableBytes)
        {
            throw new VirtqueueException(VirtqueueError.InvalidIndirectLength,
                $"queue {Index}: invalid indirect table length {length} (head {head})");
        }
        if (!_memory.TryGetSpan(new GuestAddress(address), (int)length, out var table))
        {
            throw new VirtqueueException(VirtqueueError.DescriptorNotMapped,
                $"queue {Index}: indirect table [0x{address:x}, +0x{length:x}) is not in guest memory (head {head})");
        }
        return table;
    }

    private void AddUsedSplit(ushort head, uint length)
    {
        var used = _deviceArea.Span;
        int slot = _nextUsed & (Size - 1);
        _inflight?.SplitBeforeUsed(head);
        MemoryMarshal.Write(used.Slice(SplitRing.UsedEntryOffset(slot), UsedElement.Size), new UsedElement(head, length));
        _nextUsed++;
        // Release: the element is visible before the index that publishes it (spec 2.7.8).
        WriteUInt16(used, SplitRing.UsedIndexOffset, _nextUsed);
        _inflight?.SplitAfterUsed(head, _nextUsed);
    }

    private void EnableNotificationSplit()
    {
        if (_eventIdx)
        {
            // Ask for a kick as soon as the driver adds anything past what we consumed.
            WriteUInt16(_deviceArea.Span, SplitRing.AvailEventOffset(Size), _nextAvail);
        }
        else
        {
            WriteUInt16(_deviceArea.Span, SplitRing.UsedFlagsOffset, 0);
        }
    }

    private bool NeedsNotificationSplit()
    {
        var avail = _driverArea.Span;
        bool empty = IsEmptyForNotifyOnEmpty();
        if (!_eventIdx)
        {
            return empty || (ReadUInt16(avail, SplitRing.AvailFlagsOffset) & SplitRing.AvailNoInterrupt) == 0;
        }
        // Every decision moves the signalled position, a NOTIFY_ON_EMPTY one too: the next
        // decision's window starts here, or an event this one already covered fires again.
        ushort old = _signalledUsed;
        bool valid = _signalledUsedValid;
        _signalledUsed = _nextUsed;
        _signalledUsedValid = true;
        if (empty)
        {
            return true;
        }
        ushort usedEvent = ReadUInt16(avail, SplitRing.UsedEventOffset(Size));
        return !valid || SplitRing.NeedEvent(usedEvent, _nextUsed, old);
    }
}
