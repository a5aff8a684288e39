namespace VhostUser.Protocol;

/// <summary>A vhost-user message could not be accepted; <see cref="Error"/> says why.</summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProtocolException(ProtocolError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates the exception with an inner cause.</summary>
    public ProtocolException(ProtocolError error, string message, Exception inner)
        : base(message, inner) => Error = error;

    /// <summary>The error code tests and policies switch on.</summary>
    public ProtocolError Error { get; }

    /// <summary>
    /// True if the stream can no longer be trusted (header or framing errors), so the
    /// connection must be closed rather than answered.
    /// </summary>
    public bool IsFatal => Error is ProtocolError.InvalidHeader or ProtocolError.PayloadTooLarge or ProtocolError.ConnectionClosed;
}
