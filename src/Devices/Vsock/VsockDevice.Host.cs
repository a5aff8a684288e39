// VsockDevice.Host.cs — the host side (hybrid vsock, as Firecracker and cloud-hypervisor define
// it; see README.md): the listeners host programs connect to (UdsPath for streams,
// UdsPath_seqpacket for seqpacket), the "CONNECT <port>\n" handshake, connecting out to
// UdsPath_<port> for the guest, and moving guest→host bytes into host sockets. Host sockets are
// non-blocking and watched edge-triggered on worker 0: readiness is remembered in the connection
// until a read or write meets EAGAIN.
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

    private const EpollEvents HostEvents = EpollEvents.In | EpollEvents.Out | EpollEvents.ReadHangUp | EpollEvents.EdgeTriggered;

    private readonly Socket _streamListener;
    private readonly Socket _seqPacketListener;
    private readonly List<Handshake> _handshakes = [];
    private readonly List<IDisposable> _listenerWatches = [];
    private uint _nextLocalPort = FirstLocalPort;

    /// <summary>Host-side ports for host-initiated connections are taken from here upwards.</summary>
    private const uint FirstLocalPort = 1u << 30;

    /// <summary>A host connection that has not sent its CONNECT line yet.</summary>
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
        handshake.Watch = Context.Watch(socket.SafeHandle, EpollEvents.In | EpollEvents.ReadHangUp | EpollEvents.EdgeTriggered, _ => OnHandshakeReadable(handshake));
    }

    /// <summary>Reads "CONNECT &lt;port&gt;\n" (a stream may deliver it in pieces; nothing after it is consumed).</summary>
    private void OnHandshakeReadable(Handshake handshake)
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
            if (error != SocketError.Success || n == 0 || n == line.Length || handshake.Type == VsockType.SeqPacket)
            {
                EndHandshake(handshake, closeSocket: true); // closed, too long or not a CONNECT line
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

    /// <summary>"CONNECT 1234" (keyword case-insensitive, spaces around the port allowed).</summary>
    internal static bool TryParseConnect(ReadOnlySpan<byte> line, out uint port)
    {
        port = 0;
        line = line.TrimEnd("\r"u8).Trim(" \t"u8);
        if (line.Length < 8 || !System.Text.Ascii.EqualsIgnoreCase(line[..7], "CONNECT"u8) || line[7] is not ((byte)' ' or (byte)'\t'))
        {
            return false;
        }
        return System.Buffers.Text.Utf8Parser.TryParse(line[8..].Trim(" \t"u8), out port, out int consumed) && consumed == line[8..].Trim(" \t"u8).Length;
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

    /// <summary>A host program asked for guest port <paramref name="port"/>: send the guest a REQUEST.</summary>
    private void StartHostConnection(Socket socket, VsockType type, uint port)
    {
        if (!_running || (type == VsockType.SeqPacket && !SeqPacketNegotiated) || _connections.Count >= MaxConnections)
        {
            Log.HostConnectRefused(_logger, port, _running ? "no seqpacket support or too many connections" : "the guest driver is not running");
            socket.Dispose();
            return;
        }
        uint localPort = _nextLocalPort;
        while (_connections.ContainsKey(VsockConnection.MakeKey(localPort, port)))
        {
            localPort = localPort == uint.MaxValue - 1 ? FirstLocalPort : localPort + 1;
        }
        _nextLocalPort = localPort == uint.MaxValue - 1 ? FirstLocalPort : localPort + 1;
        var connection = new VsockConnection(localPort, port, type, socket, _options.TxBufferSize)
        {
            State = ConnectionState.Connecting,
            SendRequest = true,
            HostReadable = true,
            Deadline = Environment.TickCount64 + ConnectTimeoutMs,
        };
        AddConnection(connection);
        ScheduleRx(connection);
        PumpRx();
    }

    /// <summary>The guest connects to host port P: connect to UdsPath_P (non-blocking: a full backlog is a refusal).</summary>
    private void ConnectToHost(in VsockHeader request)
    {
        if (_connections.Count >= MaxConnections)
        {
            ReplyReset(request);
            return;
        }
        string path = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_options.UdsPath}_{request.DstPort}");
        var socket = NewUnixSocket(request.Type);
        try
        {
            socket.Blocking = false;
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            Log.GuestConnectRefused(_logger, path, e.SocketErrorCode.ToString());
            socket.Dispose();
            ReplyReset(request);
            return;
        }
        var connection = new VsockConnection(request.DstPort, request.SrcPort, request.Type, socket, _options.TxBufferSize)
        {
            State = ConnectionState.Connected,
            SendResponse = true,
            HostReadable = true,
        };
        connection.UpdatePeerCredit(request.BufAlloc, request.FwdCnt);
        AddConnection(connection);
        ScheduleRx(connection);
    }

    private void AddConnection(VsockConnection connection)
    {
        Log.ConnectionOpened(_logger, connection.ToString(), connection.State == ConnectionState.Connecting ? "host connects" : "guest connects");
        _connections.Add(connection.Key, connection);
        connection.Watch = Context.Watch(connection.Host.SafeHandle, HostEvents, events => OnHostEvent(connection, events));
    }

    private void OnHostEvent(VsockConnection c, EpollEvents events)
    {
        if (c.Closed)
        {
            return;
        }
        if ((events & (EpollEvents.HangUp | EpollEvents.ReadHangUp)) != 0)
        {
            c.HostHangUp = true;
        }
        if ((events & (EpollEvents.In | EpollEvents.HangUp | EpollEvents.ReadHangUp | EpollEvents.Error)) != 0)
        {
            c.HostReadable = true;
            ScheduleRx(c);
        }
        if ((events & (EpollEvents.Out | EpollEvents.Error)) != 0 && c.Pending.Count > 0)
        {
            FlushToHost(c);
        }
        PumpRx();
    }

    /// <summary>One non-blocking send; returns the bytes taken (0 if the socket is full) or -1 after resetting the connection.</summary>
    private int SendToHost(VsockConnection c, ReadOnlySpan<byte> bytes)
    {
        int sent = c.Host.Send(bytes, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }
        if (error != SocketError.Success)
        {
            Log.HostSocketError(_logger, c.ToString(), error.ToString());
            ResetConnection(c);
            return -1;
        }
        return sent;
    }

    /// <summary>Writes buffered guest→host bytes (whole messages for seqpacket) until the socket is full.</summary>
    private void FlushToHost(VsockConnection c)
    {
        var pending = c.Pending;
        if (c.Type == VsockType.Stream)
        {
            while (pending.Count > 0)
            {
                int sent = SendToHost(c, pending.Data);
                if (sent <= 0)
                {
                    break;
                }
                pending.Consume(sent);
                c.FwdCnt += (uint)sent;
            }
        }
        else
        {
            while (pending.MessageCount > 0)
            {
                int length = pending.PeekMessageLength();
                int sent = SendToHost(c, pending.Data[..length]);
                if (sent < 0 || (sent == 0 && length > 0))
                {
                    break;
                }
                pending.ConsumeMessage();
                c.FwdCnt += (uint)length;
            }
        }
        if (c.Closed)
        {
            return;
        }
        if (pending.Count == 0 && c.GuestShutSend && !c.WriteShutDone)
        {
            c.WriteShutDone = true;
            TryShutdownHost(c, SocketShutdown.Send); // the host reads EOF after the last byte
        }
        if (c.State == ConnectionState.Closing && pending.Count == 0 && c.GuestShutSend && c.GuestShutReceive)
        {
            ResetConnection(c); // spec: the peer that receives a full SHUTDOWN answers with RST when done
            return;
        }
        MaybeSendCredit(c);
    }

    private static void TryShutdownHost(VsockConnection c, SocketShutdown how)
    {
        try
        {
            c.Host.Shutdown(how);
        }
        catch (SocketException)
        {
            // already disconnected: the next read or write reports it
        }
    }

    /// <summary>Sends the guest an RST for the connection and closes the host side.</summary>
    private void ResetConnection(VsockConnection c)
    {
        if (c.Closed)
        {
            return;
        }
        EnqueueControl(VsockHeader.Create(VsockConstants.HostCid, c.LocalPort, GuestCid, c.PeerPort, c.Type, VsockOp.Rst));
        DropConnection(c, "reset sent");
    }

    /// <summary>Forgets the connection and closes the host socket (no packet to the guest).</summary>
    private void DropConnection(VsockConnection c, string reason = "guest reset")
    {
        if (c.Closed)
        {
            return;
        }
        Log.ConnectionClosed(_logger, c.ToString(), reason);
        _connections.Remove(c.Key);
        CloseHostSide(c);
    }

    private static void CloseHostSide(VsockConnection c)
    {
        c.Closed = true;
        c.Watch?.Dispose();
        c.Watch = null;
        c.Host.Dispose();
        c.Pending.Clear();
        ReleaseOutMessage(c);
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
