// BackendChannel.cs — the back-end → front-end request channel (SET_BACKEND_REQ_FD;
// vhost-user-protocol.md §5). Requests are sent without NEED_REPLY: waiting for QEMU here could
// deadlock against a front-end request QEMU is waiting on us for.
//
// Threading: any thread may send (a signal handler's resize, a queue worker, the control thread);
// a lock keeps each message whole on the socket and orders Send against Dispose, so a send racing
// the end of the session fails quietly (false) instead of throwing into its caller.
using Microsoft.Extensions.Logging;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Backend;

internal sealed class BackendChannel : IDisposable
{
    private readonly VhostUserConnection _connection;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private bool _disposed;

    public BackendChannel(UnixSocket socket, ILogger logger)
    {
        _connection = new VhostUserConnection(socket);
        _logger = logger;
    }

    public bool SendConfigChange() => Send(BackendRequest.ConfigChangeMsg, []);

    public bool Send(BackendRequest request, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return false;
            }
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
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _connection.Dispose();
        }
    }
}
