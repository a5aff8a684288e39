using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>
/// GET/SET_INFLIGHT_FD payload. QEMU's struct is not packed: 20 bytes of fields plus 4 of
/// padding, and QEMU checks the reply is exactly 24 (vhost-user-protocol.md §3).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct InflightRegion(ulong MmapSize, ulong MmapOffset, ushort QueueCount, ushort QueueSize, uint Padding)
    : IMessagePayload
{
    /// <summary>Size on the wire.</summary>
    public const int WireSize = 24;

    /// <inheritdoc />
    public bool IsValid() => MmapOffset + MmapSize >= MmapOffset;
}
