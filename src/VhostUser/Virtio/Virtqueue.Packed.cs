// Virtqueue.Packed.cs — the packed ring (virtio spec 2.8; virtqueues.md §6): availability by
// wrap counters, chains in consecutive slots, indirect tables, used descriptors written in
// completion order, and the event-suppression structures.
using System.Runtime.InteropServices;

namespace VhostUser.Virtio;

public sealed partial class Virtqueue
{
    private bool HasAvailablePacked()
    {
        var flags = (DescriptorFlags)ReadUInt16(_descriptors.Span, SlotFlagsOffset(_nextAvail));
        return PackedRing.IsAvailable(flags, _availWrap);
    }

    private bool TryPopPacked(out DescriptorChain chain)
    {
        var ring = _descriptors.Span;
        // Acquire: the rest of the chain is read only after the head's flags say it is available.
        var headFlags = (DescriptorFlags)ReadUInt16(ring, SlotFlagsOffset(_nextAvail));
        if (!PackedRing.IsAvailable(headFlags, _availWrap))
        {
            chain = default;
            return false;
        }
        BeginScratchChain();
        _inflight?.PackedBeginPop();
        int slot = _nextAvail;
        bool wrap = _availWrap;
        int slots = 0;
        ushort id;
        while (true)
        {
            if (++slots > Size)
            {
                throw new VirtqueueException(VirtqueueError.ChainTooLong,
                    $"queue {Index}: packed chain at slot {_nextAvail} is longer than the ring ({Size})");
            }
            var d = MemoryMarshal.Read<PackedDescriptor>(ring.Slice(PackedRing.DescriptorOffset(slot), PackedDescriptor.Size));
            _inflight?.PackedRecord(d);
            if ((d.Flags & DescriptorFlags.Indirect) != 0)
            {
                WalkPackedIndirect(d, (d.Flags & DescriptorFlags.Next) != 0);
            }
            else
            {
                AppendSegment(d.Id, d.Address, d.Length, (d.Flags & DescriptorFlags.Write) != 0);
            }
            if (++slot == Size)
            {
                slot = 0;
                wrap = !wrap;
            }
            if ((d.Flags & DescriptorFlags.Next) == 0)
            {
                id = d.Id;
                break;
            }
        }
        ClaimScratchChain(id);
        _nextAvail = (ushort)slot;
        _availWrap = wrap;
        chain = CommitChain(id, (ushort)slots);
        _inflight?.PackedCommitPop(id);
        return true;
    }

    private void WalkPackedIndirect(in PackedDescriptor d, bool hasNext)
    {
        var table = OpenIndirectTable(d.Id, d.Address, d.Length, inIndirect: false, hasNext);
        int count = table.Length / PackedDescriptor.Size;
        for (int i = 0; i < count; i++)
        {
            var entry = MemoryMarshal.Read<PackedDescriptor>(table.Slice(i * PackedDescriptor.Size, PackedDescriptor.Size));
            if ((entry.Flags & DescriptorFlags.Indirect) != 0)
            {
                throw new VirtqueueException(VirtqueueError.NestedIndirect,
                    $"queue {Index}: indirect descriptor inside a packed indirect table");
            }
            AppendSegment(d.Id, entry.Address, entry.Length, (entry.Flags & DescriptorFlags.Write) != 0);
        }
    }

    private void AddUsedPacked(in DescriptorChain chain, uint length)
    {
        var ring = _descriptors.Span;
        int offset = PackedRing.DescriptorOffset(_nextUsed);
        // id and len first; the flags store (release) publishes them (spec 2.8.21).
        MemoryMarshal.Write(ring.Slice(offset + 8, 4), length);
        MemoryMarshal.Write(ring.Slice(offset + 12, 2), chain.Id);
        var flags = _usedWrap ? DescriptorFlags.PackedAvail | DescriptorFlags.PackedUsed : DescriptorFlags.None;
        if (chain.WritableLength > 0)
        {
            flags |= DescriptorFlags.Write;
        }
        int next = _nextUsed + chain.RingSlots;
        bool nextWrap = _usedWrap;
        if (next >= Size)
        {
            next -= Size;
            nextWrap = !nextWrap;
        }
        _inflight?.PackedBeforeUsed(chain.Id, (ushort)next, nextWrap);
        WriteUInt16(ring, offset + PackedRing.FlagsOffsetInDescriptor, (ushort)flags);
        _inflight?.PackedAfterUsed(chain.Id);
        _usedWrap = nextWrap;
        _nextUsed = (ushort)next;
        _usedSinceSignal = Math.Min(_usedSinceSignal + chain.RingSlots, 2 * Size);
    }

    private void EnableNotificationPacked()
    {
        var area = _deviceArea.Span;
        if (_eventIdx)
        {
            // Kick me when the descriptor at our next position becomes available.
            WriteUInt16(area, PackedRing.EventOffWrapOffset, (ushort)(_nextAvail | (_availWrap ? 0x8000 : 0)));
            WriteUInt16(area, PackedRing.EventFlagsOffset, PackedRing.EventFlagsDesc);
        }
        else
        {
            WriteUInt16(area, PackedRing.EventFlagsOffset, PackedRing.EventFlagsEnable);
        }
    }

    private bool NeedsNotificationPacked()
    {
        var area = _driverArea.Span;
        ushort flags = ReadUInt16(area, PackedRing.EventFlagsOffset);
        // Positions are ring slots, so the previous decision's position is counted back from the
        // current one by the slots used since. Comparing bare slots misses the event when a whole
        // lap (QEMU) or more than one (DPDK) was completed between two decisions, and QEMU's also
        // fires on every wrap. No event lies before the previous lap, so the window never needs
        // to reach further back.
        int window = Math.Min(_usedSinceSignal, Size + _nextUsed);
        bool valid = _signalledUsedValid;
        _usedSinceSignal = 0;
        _signalledUsedValid = true;
        if (IsEmptyForNotifyOnEmpty())
        {
            return true; // even past DISABLE or an unreached DESC event, as QEMU's virtio_should_notify
        }
        if (flags == PackedRing.EventFlagsDisable)
        {
            return false;
        }
        if (flags != PackedRing.EventFlagsDesc || !_eventIdx)
        {
            return true;
        }
        ushort offWrap = ReadUInt16(area, PackedRing.EventOffWrapOffset);
        int eventOffset = offWrap & 0x7FFF;
        // An event index from the previous lap counts one ring length back (QEMU and Linux do this).
        if ((offWrap >> 15 != 0) != _usedWrap)
        {
            eventOffset -= Size;
        }
        return !valid || SplitRing.NeedEvent((ushort)eventOffset, _nextUsed, (ushort)(_nextUsed - window));
    }

    private static int SlotFlagsOffset(int slot) => PackedRing.DescriptorOffset(slot) + PackedRing.FlagsOffsetInDescriptor;
}
