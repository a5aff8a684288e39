// VsockDevice.Host.cs — the host side of each connection (hybrid vsock; see README.md): starting
// one for a host program's CONNECT line (.Listeners.cs) or for a guest REQUEST (connecting out to
// UdsPath_<port>), moving guest→host bytes into host sockets, and closing. Host sockets are
// non-blocking and watched edge-triggered on worker 0: readiness is remembered in the connection
// until a read or write meets EAGAIN, and every path that stops reading or writing early leaves
// the flag set and the connection scheduled, so it resumes without a new edge.
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VhostUser.Unix;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    private const EpollEvents HostEvents = EpollEvents.In | EpollEvents.Out | EpollEvents.ReadHangUp | EpollEvents.EdgeTriggered;

    private uint _nextLocalPort = FirstLocalPort;

    /// <summary>Host-side ports for host-initiated connections are taken from here upwards.</summary>
    private const uint FirstLocalPort = 1u << 30;

    /// <summary>
    /// Largest seqpacket message a guest is promised (the buf_alloc of seqpacket connections):
    /// Linux copies an AF_UNIX datagram beyond its first 17 pages into one contiguous block, so a
    /// few MiB is its limit and large blocks may be short under fragmentation; 1 MiB is also the
    /// largest host→guest message (MaxHostMessage).
    /// </summary>
    public const uint MaxSeqPacketMessage = 1 << 20;

    /// <summary>Linux refuses a datagram longer than sk_sndbuf − 32 (unix_dgram_sendmsg); a little more is kept for the skb.</summary>
    private const int SendBufferOverhead = 1024;

    private const int SolSocket = 1, SoPassCred = 16, SoSndBufForce = 32;

    private bool _warnedSendBuffer;

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
        var connection = new VsockConnection(localPort, port, type, socket, PrepareHostSocket(socket, type))
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
        WithdrawReply(VsockConstants.HostCid, request.DstPort, request.SrcPort, request.Type);
        var connection = new VsockConnection(request.DstPort, request.SrcPort, request.Type, socket, PrepareHostSocket(socket, request.Type))
        {
            State = ConnectionState.Connected,
            SendResponse = true,
            HostReadable = true,
        };
        connection.UpdatePeerCredit(request.BufAlloc, request.FwdCnt);
        AddConnection(connection);
        ScheduleRx(connection);
    }

    /// <summary>
    /// Readies a host socket for its connection and returns the buf_alloc the connection
    /// advertises. Seqpacket sockets get SO_PASSCRED, so that an empty message can be told from
    /// the end of the connection (ReceiveHostMessage). The buf_alloc is tx-buffer-size, except
    /// that a seqpacket message must fit the host socket whole: each guest message is one
    /// send(2), and Linux refuses a datagram longer than the socket's send buffer less 32 bytes
    /// (EMSGSIZE; the default buffer is 212992 bytes) and cannot queue one much beyond 4 MiB
    /// (ENOBUFS). So SO_SNDBUF is raised to fit (the kernel doubles the value and caps it at
    /// net.core.wmem_max; SO_SNDBUFFORCE passes the cap with CAP_NET_ADMIN), and where it still
    /// falls short the guest is promised less: a Linux guest refuses a message longer than the
    /// peer's buf_alloc with EMSGSIZE (spec 5.10.6.3: the sender keeps within buf_alloc;
    /// virtio_transport_seqpacket_enqueue).
    /// </summary>
    private uint PrepareHostSocket(Socket socket, VsockType type)
    {
        if (type != VsockType.SeqPacket)
        {
            return _options.TxBufferSize;
        }
        socket.SetRawSocketOption(SolSocket, SoPassCred, BitConverter.GetBytes(1));
        uint wanted = Math.Min(_options.TxBufferSize, MaxSeqPacketMessage);
        int needed = (int)wanted + SendBufferOverhead;
        if (socket.SendBufferSize < needed)
        {
            TrySetSendBuffer(socket, needed, force: false);
        }
        if (socket.SendBufferSize < needed)
        {
            TrySetSendBuffer(socket, needed, force: true);
        }
        uint fits = (uint)Math.Max(socket.SendBufferSize - SendBufferOverhead, 0);
        if (fits >= wanted)
        {
            return wanted;
        }
        if (!_warnedSendBuffer)
        {
            _warnedSendBuffer = true;
            Log.SeqPacketSendBufferLimited(_logger, fits, wanted);
        }
        return Math.Max(fits, VsockVmOptions.MinTxBufferSize);
    }

    /// <summary>SO_SNDBUF (capped by net.core.wmem_max) or SO_SNDBUFFORCE (needs CAP_NET_ADMIN); a refusal leaves the size as it was.</summary>
    private static void TrySetSendBuffer(Socket socket, int bytes, bool force)
    {
        try
        {
            if (force)
            {
                socket.SetRawSocketOption(SolSocket, SoSndBufForce, BitConverter.GetBytes(bytes));
            }
            else
            {
                socket.SendBufferSize = bytes;
            }
        }
        catch (SocketException)
        {
            // EPERM without CAP_NET_ADMIN: the caller promises what the buffer holds
        }
    }

    private void AddConnection(VsockConnection connection)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.ConnectionOpened(_logger, connection.ToString(), connection.State == ConnectionState.Connecting ? "host connects" : "guest connects");
        }
        _connections.Add(connection.Key, connection);
        connection.Watch = Context.Watch(connection.Host.SafeHandle, HostEvents, events => OnHostEvent(connection, events));
    }

    private void OnHostEvent(VsockConnection c, EpollEvents events)
    {
        if (c.Closed)
        {
            return;
        }
        if ((events & EpollEvents.HangUp) != 0 && !c.HostHangUp)
        {
            c.HostHangUp = true;
            if (c.HostEof)
            {
                c.SendShutdownFlags |= VsockFlags.ShutdownReceive | VsockFlags.ShutdownSend; // a half-close became a close
            }
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

    /// <summary>Forgets the connection and closes the host socket (no packet to the guest).</summary>
    private void DropConnection(VsockConnection c, string reason = "guest reset")
    {
        if (!c.Closed)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.ConnectionClosed(_logger, c.ToString(), reason);
            }
            CloseHostSide(c);
        }
        Forget(c);
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

}
