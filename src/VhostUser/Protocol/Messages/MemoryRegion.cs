using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>One memory-table entry (32 bytes; vhost-user-protocol.md §3).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct MemoryRegion(ulong GuestPhysicalAddress, ulong MemorySize, ulong UserAddress, ulong MmapOffset)
    : IMessagePayload
{
    /// <summary>Size on the wire.</summary>
    public const int WireSize = 32;

    /// <inheritdoc />
    public bool IsValid() =>
        MemorySize != 0
        && GuestPhysicalAddress + MemorySize > GuestPhysicalAddress
        && UserAddress + MemorySize > UserAddress
        && MmapOffset + MemorySize > MmapOffset
        && MmapOffset + MemorySize <= long.MaxValue;
}
