// DriverQueue.Raw.cs — direct access to ring fields, for notification tests and hostile-guest
// tests: write any descriptor anywhere, put any head in the available ring, set avail.idx to any
// value, write packed flags directly. These bypass the driver's bookkeeping; a queue poked this
// way is meant to be thrown away with the test.
using System.Runtime.InteropServices;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

public sealed partial class DriverQueue
{
    /// <summary>Split: avail.idx as the driver last published it.</summary>
    public ushort AvailIndex => _availIndex;

    /// <summary>Split: reads used.idx.</summary>
    public ushort ReadUsedIndex()
    {
        RequireSplit();
        return ReadUInt16(UsedField(SplitRing.UsedIndexOffset));
    }

    /// <summary>Split: writes descriptor <paramref name="index"/> of the table.</summary>
    public void WriteDescriptor(int index, in Descriptor descriptor)
    {
        RequireSplit();
        _memory.Write(Layout.Descriptors.Add((ulong)(CheckIndex(index) * Descriptor.Size)), in descriptor);
    }

    /// <summary>Split: reads descriptor <paramref name="index"/> of the table.</summary>
    public Descriptor ReadDescriptor(int index)
    {
        RequireSplit();
        return _memory.Read<Descriptor>(Layout.Descriptors.Add((ulong)(CheckIndex(index) * Descriptor.Size)));
    }

    /// <summary>Split: writes avail.ring[<paramref name="slot"/>] = <paramref name="head"/> (any value).</summary>
    public void WriteAvailEntry(int slot, ushort head)
    {
        RequireSplit();
        _memory.Write(AvailField(SplitRing.AvailEntryOffset(CheckIndex(slot))), head);
    }

    /// <summary>Split: stores avail.idx = <paramref name="value"/> (any value) and remembers it.</summary>
    public void SetAvailIndex(ushort value)
    {
        RequireSplit();
        _availIndex = value;
        WriteUInt16(AvailField(SplitRing.AvailIndexOffset), value);
    }

    /// <summary>
    /// Split: puts <paramref name="head"/> (any value) in the next available-ring slot and
    /// publishes it by incrementing avail.idx (release).
    /// </summary>
    public void PublishHead(ushort head)
    {
        RequireSplit();
        _memory.Write(AvailField(SplitRing.AvailEntryOffset(_availIndex & (Size - 1))), head);
        _availIndex++;
        WriteUInt16(AvailField(SplitRing.AvailIndexOffset), _availIndex);
    }

    /// <summary>Split: stores avail.flags (bit 0 NO_INTERRUPT).</summary>
    public void SetAvailFlags(ushort flags)
    {
        RequireSplit();
        WriteUInt16(AvailField(SplitRing.AvailFlagsOffset), flags);
    }

    /// <summary>Split with EVENT_IDX: stores used_event (interrupt when used.idx passes it).</summary>
    public void SetUsedEvent(ushort value)
    {
        RequireSplit();
        WriteUInt16(AvailField(SplitRing.UsedEventOffset(Size)), value);
    }

    /// <summary>Split: reads used.flags (bit 0 NO_NOTIFY: the device asks for no kicks).</summary>
    public ushort ReadUsedFlags()
    {
        RequireSplit();
        return ReadUInt16(UsedField(SplitRing.UsedFlagsOffset));
    }

    /// <summary>Split with EVENT_IDX: reads avail_event (the device wants a kick when avail.idx passes it).</summary>
    public ushort ReadAvailEvent()
    {
        RequireSplit();
        return ReadUInt16(UsedField(SplitRing.AvailEventOffset(Size)));
    }

    /// <summary>Writes a split indirect table into newly allocated guest RAM; returns its address.</summary>
    public GuestAddress WriteTable(ReadOnlySpan<Descriptor> table) => WriteBytes(MemoryMarshal.AsBytes(table));

    /// <summary>Writes a packed indirect table into newly allocated guest RAM; returns its address.</summary>
    public GuestAddress WritePackedTable(ReadOnlySpan<PackedDescriptor> table) => WriteBytes(MemoryMarshal.AsBytes(table));

    /// <summary>Packed: writes slot <paramref name="slot"/>, its flags last (release).</summary>
    public void WritePackedDescriptor(int slot, in PackedDescriptor descriptor)
    {
        RequirePacked();
        var span = DescriptorSpan(CheckIndex(slot));
        MemoryMarshal.Write(span[..8], descriptor.Address);
        MemoryMarshal.Write(span.Slice(8, 4), descriptor.Length);
        MemoryMarshal.Write(span.Slice(12, 2), descriptor.Id);
        WritePackedFlags(slot, descriptor.Flags);
    }

    /// <summary>Packed: stores the flags of slot <paramref name="slot"/> (release).</summary>
    public void WritePackedFlags(int slot, DescriptorFlags flags)
    {
        RequirePacked();
        WriteUInt16(FlagsAddress(CheckIndex(slot)), (ushort)flags);
    }

    /// <summary>Packed: reads slot <paramref name="slot"/>.</summary>
    public PackedDescriptor ReadPackedDescriptor(int slot)
    {
        RequirePacked();
        return MemoryMarshal.Read<PackedDescriptor>(DescriptorSpan(CheckIndex(slot)));
    }

    /// <summary>Packed: stores the driver event suppression structure (off_wrap first, then flags).</summary>
    public void SetDriverEvent(ushort flags, ushort offWrap)
    {
        RequirePacked();
        WriteUInt16(Layout.DriverArea.Add(PackedRing.EventOffWrapOffset), offWrap);
        WriteUInt16(Layout.DriverArea.Add(PackedRing.EventFlagsOffset), flags);
    }

    /// <summary>Packed: reads the device event suppression structure (how the device wants kicks).</summary>
    public EventSuppression ReadDeviceEvent()
    {
        RequirePacked();
        return new EventSuppression(
            ReadUInt16(Layout.DeviceArea.Add(PackedRing.EventOffWrapOffset)),
            ReadUInt16(Layout.DeviceArea.Add(PackedRing.EventFlagsOffset)));
    }

    private GuestAddress WriteBytes(ReadOnlySpan<byte> bytes)
    {
        var address = _memory.Allocate((ulong)Math.Max(bytes.Length, 1), 16);
        _memory.Write(address, bytes);
        return address;
    }

    private int CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Size);
        return index;
    }
}
