// What an OnSerialLine callback can do while the guest runs: talk QMP to the running QEMU.
namespace VhostUser.EndToEnd;

/// <summary>Control of a running guest.</summary>
public sealed class GuestSession : IAsyncDisposable
{
    private readonly string _qmpSocket;
    private QmpClient? _qmp;

    internal GuestSession(string qmpSocket, Transport transport)
    {
        _qmpSocket = qmpSocket;
        Transport = transport;
    }

    /// <summary>The run's transport.</summary>
    public Transport Transport { get; }

    /// <summary>The QMP connection to QEMU (connected on first use).</summary>
    public async Task<QmpClient> GetQmpAsync(CancellationToken cancellationToken = default) =>
        _qmp ??= await QmpClient.ConnectAsync(_qmpSocket, cancellationToken).ConfigureAwait(false);

    /// <summary>Asks QEMU to quit; ignores a QEMU that is already gone.</summary>
    public async Task TryQuitAsync()
    {
        try
        {
            var qmp = await GetQmpAsync().ConfigureAwait(false);
            await qmp.QuitAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_qmp is not null)
        {
            await _qmp.DisposeAsync().ConfigureAwait(false);
        }
    }
}
