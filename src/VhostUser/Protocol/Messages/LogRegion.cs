using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>SET_LOG_BASE payload (16 bytes): size and offset of the dirty log in its fd.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct LogRegion(ulong MmapSize, ulong MmapOffset) : IMessagePayload
{
    /// <inheritdoc />
    public bool IsValid() => MmapSize != 0 && MmapOffset + MmapSize > MmapOffset;
}
