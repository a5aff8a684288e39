// ReceivedMessage.cs — one message as received: header, payload bytes (a view of the
// connection's reusable buffer, valid until the next Receive) and the fds it owns.
using System.Runtime.InteropServices;
using VhostUser.Protocol.Messages;

namespace VhostUser.Protocol;

/// <summary>A received vhost-user message.</summary>
public sealed class ReceivedMessage : IDisposable
{
    private readonly byte[] _buffer;

    internal ReceivedMessage(MessageHeader header, byte[] buffer, ReceivedFds fds, bool fdsTruncated = false)
    {
        Header = header;
        _buffer = buffer;
        Fds = fds;
        FdsTruncated = fdsTruncated;
    }

    /// <summary>
    /// True if more fds came with the message than a receive accepts (MSG_CTRUNC): none of them
    /// is in <see cref="Fds"/> (all were closed), and the message should be refused.
    /// </summary>
    public bool FdsTruncated { get; }

    /// <summary>The header.</summary>
    public MessageHeader Header { get; }

    /// <summary>The request code as a front-end request.</summary>
    public FrontendRequest Request => (FrontendRequest)Header.Request;

    /// <summary>The payload bytes (valid until the connection receives again).</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, (int)Header.Size);

    /// <summary>The fds that came with the message.</summary>
    public ReceivedFds Fds { get; }

    /// <summary>
    /// Reads the payload as <typeparamref name="T"/>: the size must match exactly and the
    /// struct's <see cref="IMessagePayload.IsValid"/> must hold.
    /// </summary>
    public T Read<T>()
        where T : unmanaged, IMessagePayload
    {
        T value = default;
        var bytes = MemoryMarshal.AsBytes(new Span<T>(ref value));
        int size = bytes.Length;
        if (Header.Size != size)
        {
            throw new ProtocolException(ProtocolError.InvalidPayloadSize,
                $"{DescribeRequest()} payload is {Header.Size} bytes, expected {size}");
        }
        Payload.CopyTo(bytes);
        if (!value.IsValid())
        {
            throw new ProtocolException(ProtocolError.InvalidPayload, $"{DescribeRequest()} payload is invalid: {value}");
        }
        return value;
    }

    /// <summary>Checks the payload is empty (requests without one).</summary>
    public void ExpectNoPayload()
    {
        if (Header.Size != 0)
        {
            throw new ProtocolException(ProtocolError.InvalidPayloadSize,
                $"{DescribeRequest()} payload is {Header.Size} bytes, expected none");
        }
    }

    /// <summary>Closes any fd not taken.</summary>
    public void Dispose() => Fds.Dispose();

    private string DescribeRequest() => Enum.IsDefined(Request) ? Request.ToString() : $"request {Header.Request}";
}
