// Descriptor.cs — the 16-byte split-ring descriptor (virtq_desc; virtqueues.md §2) and the flag
// bits shared with the packed ring (§6, §8). Little-endian on the wire; this project targets
// little-endian hosts only (checked at start-up), so fields are read as they are.
using System.Runtime.InteropServices;

namespace VhostUser.Virtio;

/// <summary>Descriptor flag bits.</summary>
[Flags]
public enum DescriptorFlags : ushort
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>The chain continues (split: at <c>next</c>; packed: in the next slot).</summary>
    Next = 1,
    /// <summary>Device-writable buffer.</summary>
    Write = 2,
    /// <summary>The buffer is a table of descriptors.</summary>
    Indirect = 4,
    /// <summary>Packed ring: the driver's availability bit.</summary>
    PackedAvail = 1 << 7,
    /// <summary>Packed ring: the device's used bit.</summary>
    PackedUsed = 1 << 15,
}

/// <summary>A split-ring (and indirect table) descriptor, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct Descriptor(ulong Address, uint Length, DescriptorFlags Flags, ushort Next)
{
    /// <summary>Size on the wire.</summary>
    public const int Size = 16;
}

/// <summary>A packed-ring descriptor (pvirtq_desc), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct PackedDescriptor(ulong Address, uint Length, ushort Id, DescriptorFlags Flags)
{
    /// <summary>Size on the wire.</summary>
    public const int Size = 16;
}

/// <summary>A split used-ring element (virtq_used_elem), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct UsedElement(uint Id, uint Length)
{
    /// <summary>Size on the wire.</summary>
    public const int Size = 8;
}
