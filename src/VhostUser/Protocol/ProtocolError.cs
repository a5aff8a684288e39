namespace VhostUser.Protocol;

/// <summary>Why a message was refused (design README 1.6).</summary>
public enum ProtocolError
{
    /// <summary>Version bits or flags are wrong.</summary>
    InvalidHeader,
    /// <summary>The payload is larger than any known message.</summary>
    PayloadTooLarge,
    /// <summary>The payload size does not match the request.</summary>
    InvalidPayloadSize,
    /// <summary>A payload field is invalid (IsValid failed).</summary>
    InvalidPayload,
    /// <summary>The message carried the wrong number of fds.</summary>
    WrongFdCount,
    /// <summary>The request code is unknown.</summary>
    UnknownRequest,
    /// <summary>A queue index is out of range.</summary>
    InvalidQueueIndex,
    /// <summary>The request needs a feature that was not negotiated.</summary>
    FeatureNotNegotiated,
    /// <summary>The request is not valid in the current state.</summary>
    InvalidState,
    /// <summary>The request is understood but not supported by this back end.</summary>
    Unsupported,
    /// <summary>The peer closed the connection in the middle of a message.</summary>
    ConnectionClosed,
    /// <summary>A reply did not match its request.</summary>
    InvalidReply,
    /// <summary>The memory table change was refused.</summary>
    MemoryTableRejected,
    /// <summary>The device refused the request.</summary>
    DeviceError,
    /// <summary>An fd that came with the message is not of the kind the request needs.</summary>
    InvalidFd,
}
