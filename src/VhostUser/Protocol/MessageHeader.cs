// MessageHeader.cs — the 12-byte header of every vhost-user message (request, flags, size), in
// host byte order (vhost-user-protocol.md §2).
using System.Runtime.InteropServices;

namespace VhostUser.Protocol;

/// <summary>vhost-user message header.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct MessageHeader(uint Request, HeaderFlags Flags, uint Size)
{
    /// <summary>Size on the wire.</summary>
    public const int WireSize = 12;

    /// <summary>True if the version bits say 1 and no unknown flag bit is set.</summary>
    public bool IsValid => (Flags & HeaderFlags.VersionMask) == HeaderFlags.Version1
        && (Flags & ~(HeaderFlags.VersionMask | HeaderFlags.Reply | HeaderFlags.NeedReply)) == 0;

    /// <summary>
    /// True if the NEED_REPLY flag is set. It asks for a reply-ack only once REPLY_ACK was
    /// negotiated (vhost-user-protocol.md §9); the back end checks that too.
    /// </summary>
    public bool NeedsReply => (Flags & HeaderFlags.NeedReply) != 0;

    /// <summary>True for a reply.</summary>
    public bool IsReply => (Flags & HeaderFlags.Reply) != 0;

    /// <summary>A request header.</summary>
    public static MessageHeader ForRequest(uint request, int size, bool needReply = false) =>
        new(request, HeaderFlags.Version1 | (needReply ? HeaderFlags.NeedReply : 0), (uint)size);

    /// <summary>A reply header (flags exactly 0x5, as QEMU checks).</summary>
    public static MessageHeader ForReply(uint request, int size) =>
        new(request, HeaderFlags.Version1 | HeaderFlags.Reply, (uint)size);
}
