using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>ADD_MEM_REG / REM_MEM_REG payload (40 bytes): u64 padding then one region.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct SingleMemoryRegion(ulong Padding, MemoryRegion Region) : IMessagePayload
{
    /// <inheritdoc />
    public bool IsValid() => Region.IsValid();
}
