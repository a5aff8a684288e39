using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>
/// The u64 of SET_VRING_KICK / CALL / ERR: bits 0–7 the queue index, bit 8 "no fd" (the fd is
/// absent: poll the ring, or no interrupt).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct VringFileIndex(ulong Value) : IMessagePayload
{
    /// <summary>VHOST_USER_VRING_NOFD_MASK.</summary>
    public const ulong NoFdFlag = 1UL << 8;

    /// <summary>The queue index.</summary>
    public int Index => (int)(Value & 0xFF);

    /// <summary>True when no fd accompanies the message.</summary>
    public bool NoFd => (Value & NoFdFlag) != 0;

    /// <summary>Builds the value.</summary>
    public static VringFileIndex Create(int index, bool noFd) => new((ulong)(uint)(index & 0xFF) | (noFd ? NoFdFlag : 0UL));

    /// <inheritdoc />
    public bool IsValid() => (Value & ~(0xFFUL | NoFdFlag)) == 0;
}
