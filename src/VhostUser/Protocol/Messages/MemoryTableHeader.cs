using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>The head of a SET_MEM_TABLE payload: region count and padding; regions follow.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct MemoryTableHeader(uint RegionCount, uint Padding) : IMessagePayload
{
    /// <summary>VHOST_MEMORY_BASELINE_NREGIONS: most regions SET_MEM_TABLE may carry.</summary>
    public const int MaxRegions = 8;

    /// <summary>Size on the wire.</summary>
    public const int WireSize = 8;

    /// <inheritdoc />
    public bool IsValid() => RegionCount <= MaxRegions;
}
