// VsockDevice.Listeners.cs — the host side's front door (hybrid vsock, as Firecracker and
// cloud-hypervisor define it; see README.md): the listeners host programs connect to (UdsPath for
// streams, UdsPath_seqpacket for seqpacket), stale socket files, accepting, and the
// "CONNECT <port>\n" handshake that turns an accepted socket into a host-initiated connection.
using System.Net.Sockets;
using VhostUser.Backend;
using VhostUser.Unix;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    /// <summary>Suffix of the seqpacket listener's path.</summary>
    public const string SeqPacketListenerSuffix = "_seqpacket";

    /// <summary>Most host connections that have not finished the CONNECT line.</summary>
    public const int MaxHandshakes = 1024;

    /// <summary>Longest CONNECT line accepted, newline included.</summary>
    private const int MaxConnectLine = 64;

    /// <summary>A host connection that has not sent its CONNECT line yet.</summary>
    private readonly Socket _streamListener;
    private readonly Socket _seqPacketListener;
    private readonly List<Handshake> _handshakes = [];
    private readonly List<IDisposable> _listenerWatches = [];

    private sealed class Handshake(Socket socket, VsockType type, long deadline)
    {
        public Socket Socket { get; } = socket;

        public VsockType Type { get; } = type;

        public long Deadline { get; } = deadline;

        public IDisposable? Watch { get; set; }
    }

    private static (Socket Stream, Socket SeqPacket) CreateListeners(string udsPath)
    {
        var stream = Listen(udsPath, VsockType.Stream);
        try
        {
            return (stream, Listen(udsPath + SeqPacketListenerSuffix, VsockType.SeqPacket));
        }
        catch
        {
            stream.Dispose();
            File.Delete(udsPath);
            throw;
        }
    }

    private static Socket Listen(string path, VsockType type)
    {
        var socket = NewUnixSocket(type);
        try
        {
            RemoveStaleSocket(path);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(128);
            socket.Blocking = false;
            return socket;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new DaemonOptionsException($"uds-path: cannot listen on {path}: {e.Message}");
        }
    }

    /// <summary>A socket file nobody listens on is a leftover and goes; a live one is an error.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }
        if (!UnixSocket.IsSocketFile(path))
        {
            throw new IOException($"{path} exists and is not a socket");
        }
        foreach (var type in (ReadOnlySpan<SocketType>)[SocketType.Stream, SocketType.Seqpacket])
        {
            using var probe = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"{path} is in use by another running program");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ProtocolType)
            {
                // the other socket type: try that one
            }
            catch (SocketException)
            {
                break;
            }
        }
        File.Delete(path);
    }

    private void WatchHostListeners()
    {
        _listenerWatches.Add(Context.Watch(_streamListener.SafeHandle, EpollEvents.In, _ => AcceptOne(_streamListener, VsockType.Stream)));
        _listenerWatches.Add(Context.Watch(_seqPacketListener.SafeHandle, EpollEvents.In, _ => AcceptOne(_seqPacketListener, VsockType.SeqPacket)));
    }

    /// <summary>Accepts one host connection (the listener is level-triggered: more come on the next round).</summary>
    private void AcceptOne(Socket listener, VsockType type)
    {
        Socket socket;
        try
        {
            socket = listener.Accept();
        }
        catch (SocketException e)
        {
            if (e.SocketErrorCode != SocketError.WouldBlock)
            {
                Log.AcceptFailed(_logger, e.Message);
            }
            return;
        }
        if (_handshakes.Count >= MaxHandshakes)
        {
            socket.Dispose();
            return;
        }
        socket.Blocking = false;
        var handshake = new Handshake(socket, type, Environment.TickCount64 + HandshakeTimeoutMs);
        _handshakes.Add(handshake);
        handshake.Watch = Context.Watch(socket.SafeHandle, EpollEvents.In | EpollEvents.ReadHangUp | EpollEvents.EdgeTriggered, events => OnHandshakeReadable(handshake, events));
    }

    /// <summary>
    /// Reads "CONNECT &lt;port&gt;\n" (a stream may deliver it in pieces; nothing after it is
    /// consumed). A stream that ended (EPOLLRDHUP) before its line was whole is let go at once:
    /// peeking would show the same partial line until the handshake timeout.
    /// </summary>
    private void OnHandshakeReadable(Handshake handshake, EpollEvents events)
    {
        Span<byte> line = stackalloc byte[MaxConnectLine];
        var flags = handshake.Type == VsockType.Stream ? SocketFlags.Peek : SocketFlags.None;
        int n = handshake.Socket.Receive(line, flags, out var error);
        if (error == SocketError.WouldBlock)
        {
            return;
        }
        int newline = error == SocketError.Success ? line[..n].IndexOf((byte)'\n') : -1;
        if (newline < 0)
        {
            bool ended = (events & (EpollEvents.ReadHangUp | EpollEvents.HangUp | EpollEvents.Error)) != 0;
            if (error != SocketError.Success || n == 0 || n == line.Length || handshake.Type == VsockType.SeqPacket || ended)
            {
                EndHandshake(handshake, closeSocket: true); // closed, too long, ended part way or not a CONNECT line
            }
            return; // a stream sent part of the line: wait for the rest
        }
        if (handshake.Type == VsockType.Stream)
        {
            handshake.Socket.Receive(line[..(newline + 1)], SocketFlags.None, out _); // consume exactly the line
        }
        EndHandshake(handshake, closeSocket: false);
        if (!TryParseConnect(line[..newline], out uint port))
        {
            Log.BadConnectLine(_logger, System.Text.Encoding.ASCII.GetString(line[..newline]));
            handshake.Socket.Dispose();
            return;
        }
        StartHostConnection(handshake.Socket, handshake.Type, port);
    }

    /// <summary>"CONNECT 1234" (keyword case-insensitive, spaces around the port allowed; not 4294967295, VMADDR_PORT_ANY).</summary>
    internal static bool TryParseConnect(ReadOnlySpan<byte> line, out uint port)
    {
        port = 0;
        line = line.TrimEnd("\r"u8).Trim(" \t"u8);
        if (line.Length < 8 || !System.Text.Ascii.EqualsIgnoreCase(line[..7], "CONNECT"u8) || line[7] is not ((byte)' ' or (byte)'\t'))
        {
            return false;
        }
        var digits = line[8..].Trim(" \t"u8);
        if (!System.Buffers.Text.Utf8Parser.TryParse(digits, out port, out int consumed) || consumed != digits.Length || port == uint.MaxValue)
        {
            port = 0; // not a number, or VMADDR_PORT_ANY, which names no port to connect to
            return false;
        }
        return true;
    }

    private void EndHandshake(Handshake handshake, bool closeSocket)
    {
        _handshakes.Remove(handshake);
        handshake.Watch?.Dispose();
        handshake.Watch = null;
        if (closeSocket)
        {
            handshake.Socket.Dispose();
        }
    }

    private void DisposeHost()
    {
        foreach (var watch in _listenerWatches)
        {
            watch.Dispose();
        }
        foreach (var handshake in _handshakes.ToList())
        {
            EndHandshake(handshake, closeSocket: true);
        }
        _streamListener.Dispose();
        _seqPacketListener.Dispose();
        foreach (string path in (string[])[_options.UdsPath, _options.UdsPath + SeqPacketListenerSuffix])
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}
