using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>struct vhost_vring_addr (40 bytes). Note the wire order: desc, used, avail.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct VringAddress(
    uint Index,
    uint Flags,
    ulong DescriptorUserAddress,
    ulong UsedUserAddress,
    ulong AvailUserAddress,
    ulong LogGuestAddress) : IMessagePayload
{
    /// <summary>VHOST_VRING_F_LOG: log used-ring writes.</summary>
    public const uint FlagLog = 1;

    /// <inheritdoc />
    public bool IsValid() => (Flags & ~FlagLog) == 0;
}
