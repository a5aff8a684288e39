// VhostUserFrontend.cs — the QEMU side of vhost-user in C# (design README 1.9): it shares
// VhostUserConnection, MessageHeader, the payload structs and FrontendRequest with the back end.
// One public method per request (VhostUserFrontend.Requests.cs) plus Negotiate (the usual start-up
// sequence) and StartQueue (what QEMU does to start a ring).
//
// Reply-ack: once REPLY_ACK is negotiated, the requests QEMU sends with NEED_REPLY carry it here
// too, and a non-zero ack throws ProtocolException(DeviceError). Every reply is checked the way
// QEMU checks it: flags exactly REPLY|version, the same request code, the expected size.
//
// Threading: one thread at a time.
using System.Runtime.InteropServices;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Frontend;

/// <summary>A vhost-user front end connected to one back end.</summary>
public sealed partial class VhostUserFrontend : IDisposable
{
    private readonly VhostUserConnection _connection;

    /// <summary>Wraps a connected socket; the front end owns it.</summary>
    public VhostUserFrontend(UnixSocket socket) => _connection = new VhostUserConnection(socket);

    /// <summary>Connects to a back end listening on <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The back end's socket.</param>
    /// <param name="timeout">How long to wait for any reply before giving up (zero: forever).</param>
    public static VhostUserFrontend Connect(string socketPath, TimeSpan timeout = default)
    {
        var socket = UnixSocket.Connect(socketPath);
        if (timeout > TimeSpan.Zero)
        {
            socket.SetTimeout(timeout);
        }
        return new VhostUserFrontend(socket);
    }

    /// <summary>Protocol features acknowledged with SET_PROTOCOL_FEATURES.</summary>
    public ProtocolFeatures AckedProtocolFeatures { get; private set; }

    /// <summary>The underlying message stream (hostile tests send raw messages through it).</summary>
    public VhostUserConnection Connection => _connection;

    /// <summary>True if NEED_REPLY is used (REPLY_ACK negotiated).</summary>
    public bool UsesReplyAck => (AckedProtocolFeatures & ProtocolFeatures.ReplyAck) != 0;

    /// <summary>Closes the connection.</summary>
    public void Dispose() => _connection.Dispose();

    /// <summary>Sends a request without payload that has a u64 reply.</summary>
    private ulong QueryU64(FrontendRequest request)
    {
        Send(request, [], needReply: false);
        return ReceiveReply<U64Payload>(request).Value;
    }

    /// <summary>
    /// Sends a request that has no reply of its own; with <paramref name="ack"/> and REPLY_ACK it
    /// asks for, and checks, the reply-ack.
    /// </summary>
    private void Command(FrontendRequest request, ReadOnlySpan<byte> payload, ReadOnlySpan<FileDescriptor> fds = default, bool ack = true)
    {
        bool needReply = ack && UsesReplyAck;
        Send(request, payload, needReply, fds);
        if (needReply)
        {
            ulong result = ReceiveReply<U64Payload>(request).Value;
            if (result != 0)
            {
                throw new ProtocolException(ProtocolError.DeviceError, $"{request} failed: the back end answered {result}");
            }
        }
    }

    private void Command<T>(FrontendRequest request, in T payload, ReadOnlySpan<FileDescriptor> fds = default, bool ack = true)
        where T : unmanaged, IMessagePayload =>
        Command(request, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds, ack);

    private void Send(FrontendRequest request, ReadOnlySpan<byte> payload, bool needReply, ReadOnlySpan<FileDescriptor> fds = default) =>
        _connection.Send(MessageHeader.ForRequest((uint)request, payload.Length, needReply), payload, fds);

    private T ReceiveReply<T>(FrontendRequest request)
        where T : unmanaged, IMessagePayload
    {
        using var reply = ReceiveReplyMessage(request);
        return reply.Read<T>();
    }

    /// <summary>Receives the reply to <paramref name="request"/> and checks its header as QEMU does.</summary>
    private ReceivedMessage ReceiveReplyMessage(FrontendRequest request)
    {
        var reply = _connection.Receive()
            ?? throw new ProtocolException(ProtocolError.ConnectionClosed, $"the back end closed the connection instead of answering {request}");
        if (reply.Header.Flags != (HeaderFlags.Version1 | HeaderFlags.Reply) || reply.Header.Request != (uint)request)
        {
            reply.Dispose();
            throw new ProtocolException(ProtocolError.InvalidReply,
                $"reply to {request} has request {reply.Header.Request} flags 0x{(uint)reply.Header.Flags:x}");
        }
        return reply;
    }
}
