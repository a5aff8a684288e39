// BackendChannel.cs — the back-end → front-end request channel (SET_BACKEND_REQ_FD;
// vhost-user-protocol.md §5). Requests are sent without NEED_REPLY: waiting for QEMU here could
// deadlock against a front-end request QEMU is waiting on us for.
using Microsoft.Extensions.Logging;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Backend;

internal sealed class BackendChannel : IDisposable
{
    private readonly VhostUserConnection _connection;
    private readonly ILogger _logger;

    public BackendChannel(UnixSocket socket, ILogger logger)
    {
        _connection = new VhostUserConnection(socket);
        _logger = logger;
    }

    public bool SendConfigChange() => Send(BackendRequest.ConfigChangeMsg, []);

    public bool Send(BackendRequest request, ReadOnlySpan<byte> payload)
    {
        try
        {
            _connection.Send(MessageHeader.ForRequest((uint)request, payload.Length), payload);
            return true;
        }
        catch (IOException e)
        {
            Log.BackendChannelFailed(_logger, request, e.Message);
            return false;
        }
    }

    public void Dispose() => _connection.Dispose();
}
