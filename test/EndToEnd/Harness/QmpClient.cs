// A minimal QEMU Machine Protocol client over the run's -qmp unix socket: enough to reset the
// machine from the host (system_reset), ask QEMU to quit cleanly, or run any other command.
// Wire format: one JSON object per line; the server greets first, then qmp_capabilities opens
// command mode; asynchronous "event" objects may arrive between a command and its reply.
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VhostUser.EndToEnd;

/// <summary>A connected QMP session.</summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(stream, Encoding.UTF8);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    }

    /// <summary>Connects to the QMP socket at <paramref name="path"/> and enters command mode.</summary>
    public static async Task<QmpClient> ConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            var client = new QmpClient(socket);
            _ = await client._reader.ReadLineAsync(cancellationToken).ConfigureAwait(false); // greeting
            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs a command; returns the raw "return" value as JSON text; throws on "error".</summary>
    public async Task<string> ExecuteAsync(string command, object? arguments = null, CancellationToken cancellationToken = default)
    {
        var request = arguments is null
            ? JsonSerializer.Serialize(new Dictionary<string, string> { ["execute"] = command })
            : $"{{\"execute\":{JsonSerializer.Serialize(command)},\"arguments\":{JsonSerializer.Serialize(arguments)}}}";
        await _writer.WriteLineAsync(request.AsMemory(), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new IOException($"QMP connection closed while waiting for the reply to {command}");
            using var reply = JsonDocument.Parse(line);
            if (reply.RootElement.TryGetProperty("return", out var result))
            {
                return result.GetRawText();
            }

            if (reply.RootElement.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"QMP {command} failed: {error.GetRawText()}");
            }

            // an asynchronous event; keep reading
        }
    }

    /// <summary>Resets the machine (the guest reboots; QEMU and the vhost-user connections stay).</summary>
    public Task SystemResetAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync("system_reset", null, cancellationToken);

    /// <summary>Asks QEMU to exit.</summary>
    public Task QuitAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync("quit", null, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _writer.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
