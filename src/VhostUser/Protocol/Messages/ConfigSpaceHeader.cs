using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>GET_CONFIG / SET_CONFIG header (12 bytes); <see cref="Size"/> data bytes follow.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct ConfigSpaceHeader(uint Offset, uint Size, uint Flags) : IMessagePayload
{
    /// <summary>VHOST_USER_MAX_CONFIG_SIZE.</summary>
    public const int MaxDataSize = 256;

    /// <summary>Size on the wire.</summary>
    public const int WireSize = 12;

    /// <summary>Flags value: a write from the guest.</summary>
    public const uint FlagFrontend = 0;

    /// <summary>Flags value: restoring config during migration.</summary>
    public const uint FlagMigration = 1;

    /// <inheritdoc />
    public bool IsValid() => Size <= MaxDataSize && Offset <= MaxDataSize && Offset + Size <= MaxDataSize && Flags <= FlagMigration;
}
