namespace VhostUser.Protocol;

/// <summary>Message header flags (vhost-user-protocol.md §2).</summary>
[Flags]
public enum HeaderFlags : uint
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Protocol version 1 (bits 0–1).</summary>
    Version1 = 0x1,
    /// <summary>Mask of the version bits.</summary>
    VersionMask = 0x3,
    /// <summary>This message is a reply.</summary>
    Reply = 0x4,
    /// <summary>The sender wants a reply-ack (REPLY_ACK).</summary>
    NeedReply = 0x8,
}
