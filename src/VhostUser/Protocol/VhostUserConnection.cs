// VhostUserConnection.cs — one end of a vhost-user socket, used by both sides (back end for
// front-end requests, front end for replies, either side on the back-end channel).
//
// Receive order (as rust-vmm's connection.rs): the header first, with the fds attached to its
// first byte (vhost-user rst: fds ride on the header's sendmsg), then exactly Size payload bytes.
// A header that is invalid or announces an oversized payload leaves the stream unusable, so it
// is a fatal ProtocolException and the caller closes the connection. Too many fds (MSG_CTRUNC)
// do not: the bytes are all there, so the message is read whole, carries none of its fds, and is
// marked (ReceivedMessage.FdsTruncated) for the receiver to refuse.
using System.Runtime.InteropServices;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Protocol;

/// <summary>A vhost-user message stream over a Unix socket.</summary>
public sealed class VhostUserConnection : IDisposable
{
    /// <summary>Largest payload accepted (the largest message, GET_SHMEM_CONFIG, is 2056 bytes).</summary>
    public const int MaxPayloadSize = 4096;

    private readonly UnixSocket _socket;
    private readonly byte[] _buffer = new byte[MaxPayloadSize];
    private readonly List<FileDescriptor> _fds = new(8);
    private readonly byte[] _header = new byte[MessageHeader.WireSize];
    private readonly Lock _sendLock = new();
    private bool _fdsTruncated;

    /// <summary>Wraps a connected socket; the connection owns it.</summary>
    public VhostUserConnection(UnixSocket socket) => _socket = socket;

    /// <summary>The socket.</summary>
    public UnixSocket Socket => _socket;

    /// <summary>
    /// Receives one message. Returns null when the peer closed the connection between messages.
    /// The returned message's payload is valid until the next call.
    /// </summary>
    public ReceivedMessage? Receive()
    {
        _fds.Clear();
        _fdsTruncated = false;
        try
        {
            if (!ReceiveExactly(_header, allowEof: true))
            {
                return null;
            }
            var header = MemoryMarshal.Read<MessageHeader>(_header);
            if (!header.IsValid)
            {
                throw new ProtocolException(ProtocolError.InvalidHeader,
                    $"invalid header: request {header.Request} flags 0x{(uint)header.Flags:x} size {header.Size}");
            }
            if (header.Size > MaxPayloadSize)
            {
                throw new ProtocolException(ProtocolError.PayloadTooLarge,
                    $"request {header.Request} announces a {header.Size}-byte payload (max {MaxPayloadSize})");
            }
            ReceiveExactly(_buffer.AsSpan(0, (int)header.Size), allowEof: false);
            var fds = new ReceivedFds(_fds);
            _fds.Clear();
            return new ReceivedMessage(header, _buffer, fds, _fdsTruncated);
        }
        catch
        {
            foreach (var fd in _fds)
            {
                fd.Dispose();
            }
            _fds.Clear();
            throw;
        }
    }

    /// <summary>Sends one message: header, payload and fds (fds ride on the header).</summary>
    public void Send(MessageHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<FileDescriptor> fds = default)
    {
        if (payload.Length != header.Size)
        {
            throw new ArgumentException($"payload is {payload.Length} bytes but the header says {header.Size}", nameof(payload));
        }
        Span<byte> message = stackalloc byte[MessageHeader.WireSize + payload.Length];
        MemoryMarshal.Write(message, in header);
        payload.CopyTo(message[MessageHeader.WireSize..]);
        lock (_sendLock)
        {
            _socket.Send(message, fds);
        }
    }

    /// <summary>Sends a message whose payload is one wire struct.</summary>
    public void Send<T>(MessageHeader header, in T payload, ReadOnlySpan<FileDescriptor> fds = default)
        where T : unmanaged, IMessagePayload
    {
        Send(header, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds);
    }

    /// <summary>Sends a reply carrying one wire struct.</summary>
    public void Reply<T>(uint request, in T payload, ReadOnlySpan<FileDescriptor> fds = default)
        where T : unmanaged, IMessagePayload
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload));
        Send(MessageHeader.ForReply(request, bytes.Length), bytes, fds);
    }

    /// <summary>Sends a reply with raw payload bytes.</summary>
    public void Reply(uint request, ReadOnlySpan<byte> payload) =>
        Send(MessageHeader.ForReply(request, payload.Length), payload);

    /// <summary>Unblocks a Receive on another thread; later receives return null.</summary>
    public void Shutdown() => _socket.Shutdown();

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();

    private bool ReceiveExactly(Span<byte> destination, bool allowEof)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = _socket.Receive(destination[total..], _fds, out bool truncated);
            _fdsTruncated |= truncated;
            if (n == 0)
            {
                if (allowEof && total == 0)
                {
                    return false;
                }
                throw new ProtocolException(ProtocolError.ConnectionClosed,
                    $"connection closed after {total} of {destination.Length} bytes");
            }
            total += n;
        }
        return true;
    }
}
