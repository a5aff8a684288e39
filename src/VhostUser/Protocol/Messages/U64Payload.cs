using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>A single u64 payload (feature bits, counts, status, reply-ack values).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct U64Payload(ulong Value) : IMessagePayload
{
    /// <inheritdoc />
    public bool IsValid() => true;
}
