using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>struct vhost_vring_state (8 bytes): a queue index and a number whose meaning depends
/// on the request (size, base, enable flag).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct VringState(uint Index, uint Num) : IMessagePayload
{
    /// <inheritdoc />
    public bool IsValid() => true;
}
