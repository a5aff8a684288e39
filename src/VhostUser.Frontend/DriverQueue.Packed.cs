// DriverQueue.Packed.cs — the driver's half of a packed ring (virtio spec 2.8; virtqueues.md §6):
// chains written into consecutive slots with the AVAIL/USED bits of the driver's wrap counter,
// the head's flags stored last, used descriptors taken back in the device's order, and the two
// event-suppression structures.
using System.Runtime.InteropServices;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

public sealed partial class DriverQueue
{
    private readonly Queue<ushort> _freeIds = new();
    private int _freeSlots;
    private ushort _nextAvailSlot;
    private bool _availWrap = true;
    private ushort _nextUsedSlot;
    private bool _usedWrap = true;
    private int _slotsSinceKick;

    /// <summary>Packed: the slot the next chain starts at.</summary>
    public int NextAvailSlot => _nextAvailSlot;

    /// <summary>Packed: the driver's wrap counter (starts true, flips after slot Size-1).</summary>
    public bool AvailWrapCounter => _availWrap;

    /// <summary>Packed: the slot the next used descriptor is expected at.</summary>
    public int NextUsedSlot => _nextUsedSlot;

    /// <summary>Packed: the wrap counter for used descriptors.</summary>
    public bool UsedWrapCounter => _usedWrap;

    /// <summary>
    /// Packed: the AVAIL/USED bits that mark a descriptor available for wrap counter
    /// <paramref name="wrap"/> (AVAIL = wrap, USED = !wrap; spec 2.8.1).
    /// </summary>
    public static DescriptorFlags AvailableFlags(bool wrap) => wrap ? DescriptorFlags.PackedAvail : DescriptorFlags.PackedUsed;

    private static VirtqueueLayout AllocatePacked(SharedGuestMemory memory, int size) => new(
        size,
        memory.Allocate((ulong)PackedRing.DescriptorRingSize(size), PackedRing.DescriptorAlignment),
        memory.Allocate(PackedRing.EventSize, PackedRing.EventAlignment),
        memory.Allocate(PackedRing.EventSize, PackedRing.EventAlignment));

    private void InitializePacked()
    {
        for (int i = 0; i < Size; i++)
        {
            _freeIds.Enqueue((ushort)i);
        }
        _freeSlots = Size;
    }

    private bool CanOfferPacked(int slots) => _freeIds.Count > 0 && _freeSlots >= slots;

    private ushort OfferPacked(ReadOnlySpan<DriverBuffer> buffers, bool indirect)
    {
        ushort id = _freeIds.Dequeue();
        var segments = PlaceBuffers(id, buffers);
        PackedDescriptor[] descriptors;
        if (indirect)
        {
            var table = TableBlock(id, segments.Length);
            for (int i = 0; i < segments.Length; i++)
            {
                var flags = segments[i].Writable ? DescriptorFlags.Write : DescriptorFlags.None;
                _memory.Write(table.Add((ulong)(i * PackedDescriptor.Size)), new PackedDescriptor(segments[i].Address, segments[i].Length, 0, flags));
            }
            descriptors = [new PackedDescriptor(table.Value, (uint)(segments.Length * PackedDescriptor.Size), id, DescriptorFlags.Indirect)];
        }
        else
        {
            descriptors = new PackedDescriptor[segments.Length];
            for (int i = 0; i < segments.Length; i++)
            {
                bool last = i + 1 == segments.Length;
                var flags = (segments[i].Writable ? DescriptorFlags.Write : DescriptorFlags.None) | (last ? DescriptorFlags.None : DescriptorFlags.Next);
                // The buffer id goes in the last descriptor of the chain (spec 2.8.6).
                descriptors[i] = new PackedDescriptor(segments[i].Address, segments[i].Length, last ? id : (ushort)0, flags);
            }
        }
        WritePackedChain(descriptors);
        Record(id, segments, [], descriptors.Length);
        return id;
    }

    /// <summary>Writes a chain at the next slots; the head's flags go last (spec 2.8.21).</summary>
    private void WritePackedChain(PackedDescriptor[] descriptors)
    {
        int headSlot = _nextAvailSlot;
        var headFlags = descriptors[0].Flags | AvailableFlags(_availWrap);
        for (int i = 0; i < descriptors.Length; i++)
        {
            var d = descriptors[i];
            if (i > 0)
            {
                WritePackedDescriptor(_nextAvailSlot, d with { Flags = d.Flags | AvailableFlags(_availWrap) });
            }
            AdvanceAvailSlot();
        }
        var head = descriptors[0];
        var span = DescriptorSpan(headSlot);
        MemoryMarshal.Write(span[..8], head.Address);
        MemoryMarshal.Write(span.Slice(8, 4), head.Length);
        MemoryMarshal.Write(span.Slice(12, 2), head.Id);
        // Release: the head becomes available only after the whole chain is written.
        WritePackedFlags(headSlot, headFlags);
        _freeSlots -= descriptors.Length;
        _slotsSinceKick += descriptors.Length;
    }

    private void AdvanceAvailSlot()
    {
        if (++_nextAvailSlot == Size)
        {
            _nextAvailSlot = 0;
            _availWrap = !_availWrap;
        }
    }

    private bool TryTakeUsedPacked(out UsedElement used)
    {
        // Acquire: id and len are read only after the flags say the descriptor is used.
        var flags = (DescriptorFlags)ReadUInt16(FlagsAddress(_nextUsedSlot));
        if (!PackedRing.IsUsed(flags, _usedWrap))
        {
            used = default;
            return false;
        }
        var d = MemoryMarshal.Read<PackedDescriptor>(DescriptorSpan(_nextUsedSlot));
        var chain = Retire(d.Id);
        int next = _nextUsedSlot + chain.Slots;
        if (next >= Size)
        {
            next -= Size;
            _usedWrap = !_usedWrap;
        }
        _nextUsedSlot = (ushort)next;
        _freeSlots += chain.Slots;
        _freeIds.Enqueue(d.Id);
        used = new UsedElement(d.Id, d.Length);
        return true;
    }

    private bool NeedsKickPacked()
    {
        ushort flags = ReadUInt16(Layout.DeviceArea.Add(PackedRing.EventFlagsOffset));
        ushort newSlot = _nextAvailSlot;
        ushort oldSlot = (ushort)(newSlot - _slotsSinceKick);
        _slotsSinceKick = 0;
        if (flags != PackedRing.EventFlagsDesc || !EventIdx)
        {
            return flags != PackedRing.EventFlagsDisable;
        }
        ushort offWrap = ReadUInt16(Layout.DeviceArea.Add(PackedRing.EventOffWrapOffset));
        int eventSlot = offWrap & 0x7FFF;
        // An event offset from the other lap counts one ring length back (Linux virtqueue_kick_prepare_packed).
        if ((offWrap >> 15 != 0) != _availWrap)
        {
            eventSlot -= Size;
        }
        return SplitRing.NeedEvent((ushort)eventSlot, newSlot, oldSlot);
    }

    private void EnableInterruptsPacked()
    {
        if (EventIdx)
        {
            // Interrupt when the device marks the descriptor at our next used position.
            SetDriverEvent(PackedRing.EventFlagsDesc, (ushort)(_nextUsedSlot | (_usedWrap ? 0x8000 : 0)));
        }
        else
        {
            SetDriverEvent(PackedRing.EventFlagsEnable, 0);
        }
    }

    private Span<byte> DescriptorSpan(int slot) =>
        _memory.GetSpan(Layout.Descriptors.Add((ulong)PackedRing.DescriptorOffset(slot)), PackedDescriptor.Size);

    private GuestAddress FlagsAddress(int slot) =>
        Layout.Descriptors.Add((ulong)(PackedRing.DescriptorOffset(slot) + PackedRing.FlagsOffsetInDescriptor));

    private void RequirePacked()
    {
        if (!IsPacked)
        {
            throw new InvalidOperationException("this operation is for packed rings");
        }
    }
}
