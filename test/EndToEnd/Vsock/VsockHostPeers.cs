// VsockHostPeers.cs — the host programs of the vsock guest tests, speaking hybrid vsock over Unix
// sockets: echo servers at UDS_<port> for guest connections (stream and seqpacket; each stream
// connection's bytes and WordHash are recorded), a sink that reads slowly, the host side of
// host→guest transfers (CONNECT <port>, then data), and the signal a guest script waits for.
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace VhostUser.EndToEnd.Tests.Vsock;

internal static class VsockHostPeers
{
    /// <summary>What a stream echo connection received: byte count and WordHash.</summary>
    internal readonly record struct Received(long Bytes, string Hash);

    /// <summary>Echoes every connection on <paramref name="path"/> (each until EOF) until cancelled.</summary>
    public static async Task EchoServerAsync(string path, SocketType type, CancellationToken cancel, ConcurrentQueue<Received>? received = null)
    {
        using var listener = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(128);
        var sessions = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(cancel);
                if (type == SocketType.Seqpacket)
                {
                    socket.SendBufferSize = 1 << 20; // a message must fit the send buffer whole (the default is 212992 bytes)
                }
                sessions.Add(Task.Run(() => EchoAsync(socket, type == SocketType.Seqpacket, received), CancellationToken.None));
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(sessions);
    }

    private static async Task EchoAsync(Socket socket, bool messages, ConcurrentQueue<Received>? received)
    {
        using (socket)
        {
            var buffer = new byte[messages ? 1 << 20 : 256 * 1024];
            var hash = new WordHash();
            try
            {
                while (true)
                {
                    int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0)
                    {
                        break;
                    }
                    hash.Append(buffer.AsSpan(0, n));
                    await SendAllAsync(socket, buffer.AsMemory(0, n), messages);
                }
                socket.Shutdown(SocketShutdown.Send);
                received?.Enqueue(new Received(hash.Length, hash.Final()));
            }
            catch (SocketException)
            {
            }
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, bool message)
    {
        if (message)
        {
            await socket.SendAsync(data, SocketFlags.None);
            return;
        }
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None);
            data = data[n..];
        }
    }

    /// <summary>
    /// Accepts connections on <paramref name="path"/>, one at a time, and reads each slowly to EOF;
    /// once cancelled, returns what the last one received.
    /// </summary>
    public static async Task<Received> SlowSinkAsync(string path, int chunk, TimeSpan pause, CancellationToken cancel)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var last = new Received(0, "");
        try
        {
            while (true)
            {
                using var socket = await listener.AcceptAsync(cancel);
                socket.ReceiveBufferSize = chunk;
                var hash = new WordHash();
                var buffer = new byte[chunk];
                while (true)
                {
                    await Task.Delay(pause, cancel);
                    int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel);
                    if (n == 0)
                    {
                        break;
                    }
                    hash.Append(buffer.AsSpan(0, n));
                }
                last = new Received(hash.Length, hash.Final());
            }
        }
        catch (OperationCanceledException)
        {
            return last;
        }
    }

    /// <summary>Connects to the guest's port through <paramref name="udsPath"/> (hybrid vsock handshake).</summary>
    public static async Task<Socket> ConnectToGuestAsync(string udsPath, uint port, SocketType type = SocketType.Stream)
    {
        var path = type == SocketType.Seqpacket ? udsPath + "_seqpacket" : udsPath;
        var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        if (type == SocketType.Seqpacket)
        {
            socket.SendBufferSize = 1 << 20; // a message must fit the send buffer whole (the default is 212992 bytes)
        }
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            await socket.SendAsync(Encoding.ASCII.GetBytes($"CONNECT {port}\n"), SocketFlags.None);
            var line = new StringBuilder();
            var one = new byte[type == SocketType.Seqpacket ? 64 : 1];
            while (!line.ToString().EndsWith('\n'))
            {
                int n = await socket.ReceiveAsync(one, SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException($"the guest refused port {port} (no OK line, got '{line}')");
                }
                line.Append(Encoding.ASCII.GetString(one, 0, n));
            }
            // "OK <host-side port>\n": the port the daemon assigned to this end (Firecracker's convention).
            string reply = line.ToString();
            if (!reply.StartsWith("OK ", StringComparison.Ordinal) || !uint.TryParse(reply.AsSpan(3, reply.Length - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint hostPort) || hostPort < 1u << 30)
            {
                throw new IOException($"unexpected handshake reply '{reply}'");
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="text"/> to the guest's `vsock-tool wait PORT`, retrying while the
    /// guest is not listening yet (up to <paramref name="timeout"/>).
    /// </summary>
    public static async Task SignalGuestAsync(string udsPath, uint port, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var socket = await ConnectToGuestAsync(udsPath, port);
                await SendAllAsync(socket, Encoding.ASCII.GetBytes(text + "\n"), message: false);
                socket.Shutdown(SocketShutdown.Send);
                return;
            }
            catch (Exception e) when ((e is IOException or SocketException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="size"/> pseudo-random bytes to an echo service in the guest while
    /// reading the echo back; returns the WordHash of what was sent and of what came back.
    /// </summary>
    public static async Task<(Received Sent, Received Echoed)> EchoThroughGuestAsync(Socket socket, long size, int seed)
    {
        var sentHash = new WordHash();
        var receivedHash = new WordHash();
        var writer = Task.Run(async () =>
        {
            var random = new Random(seed);
            var block = new byte[64 * 1024];
            for (long left = size; left > 0;)
            {
                int n = (int)Math.Min(block.Length, left);
                random.NextBytes(block.AsSpan(0, n));
                sentHash.Append(block.AsSpan(0, n));
                await SendAllAsync(socket, block.AsMemory(0, n), message: false);
                left -= n;
            }
            socket.Shutdown(SocketShutdown.Send);
        });
        var buffer = new byte[256 * 1024];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                break;
            }
            receivedHash.Append(buffer.AsSpan(0, n));
        }
        await writer;
        return (new Received(sentHash.Length, sentHash.Final()), new Received(receivedHash.Length, receivedHash.Final()));
    }

    /// <summary>Sends seqpacket messages of the given sizes to a guest echo service, each checked whole on return.</summary>
    public static async Task<string?> SeqPacketRoundTripsAsync(Socket socket, IEnumerable<int> sizes)
    {
        var buffer = new byte[1 << 20];
        int index = 0;
        foreach (int size in sizes)
        {
            var message = new byte[size];
            new Random(size + index).NextBytes(message);
            await socket.SendAsync(message, SocketFlags.None);
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n != size || !buffer.AsSpan(0, n).SequenceEqual(message))
            {
                return $"message {index}: sent {size} bytes, got {n} back{(n == size ? " with different contents" : "")}";
            }
            index++;
        }
        return null;
    }
}
