// VsockDevice.Rx.cs — packets to the guest (the rx ring, virtio spec 5.10.6.6 "Device Operation:
// Receiving"). The driver's rx buffers are popped into _rxHeld and used as packets become ready
// (design README 1.4, held buffers). Sources, in order: replies to unknown connections first,
// then sibling packets and connections (reset ones owing their RST included) taking turns;
// connections are served round robin one packet at a time, so a busy or stalled connection never
// holds the others up. Host stream data is read with one readv(2) straight into up to 16 of the
// guest's buffers (after each 44-byte header), within the guest's credit: with Linux's 4 KiB
// buffers that is one system call per 64 KiB instead of per 4 KiB.
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    /// <summary>Largest seqpacket message taken from a host socket (also bounded by the guest's buf_alloc).</summary>
    public const int MaxHostMessage = 1 << 20;

    /// <summary>The address argument ReceiveMessageFrom wants (the sender's address is not used).</summary>
    private static readonly UnixDomainSocketEndPoint AnyUnixEndPoint = new("/");

    private readonly ChainQueue _rxHeld = new();
    private int _rxBatchExtra;
    private readonly Queue<VsockConnection> _rxReady = new();
    private readonly Epoll _probe = Epoll.Create();
    private byte[]? _messageScratch;
    private bool _pumping;
    private bool _pumpAgain;
    private int _turn;

    /// <summary>ProcessQueue for rx: the driver added buffers.</summary>
    private void TakeRxBuffers(DeviceQueue rx)
    {
        while (rx.TryPop(out var chain))
        {
            if (chain.WritableLength <= VsockHeader.Size)
            {
                rx.Complete(chain, 0); // cannot carry a header and data; Linux drops a short used buffer
                continue;
            }
            _rxHeld.Enqueue(chain);
        }
        PumpRx();
    }

    /// <summary>Fills held rx buffers while packets are ready. Not re-entrant: nested calls ask for another round.</summary>
    private void PumpRx()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return;
        }
        var rx = Context.Queues[RxQueue];
        _pumping = true;
        try
        {
            do
            {
                _pumpAgain = false;
                while (HasRxWork)
                {
                    if (_rxHeld.Count == 0)
                    {
                        // Take new buffers through Process: it re-arms notifications (EVENT_IDX) when
                        // the ring runs dry, so the driver's next buffer brings a kick.
                        rx.Process();
                        if (_rxHeld.Count == 0)
                        {
                            break;
                        }
                    }
                    _rxBatchExtra = 0;
                    if (!FillRxBuffer(rx, _rxHeld[0]))
                    {
                        break;
                    }
                    _rxHeld.Dequeue(1 + _rxBatchExtra);
                }
            }
            while (_pumpAgain && _rxHeld.Count > 0);
        }
        finally
        {
            _pumping = false;
        }
    }

    private bool HasRxWork => _control.Count > 0 || _rxReady.Count > 0 || HasSiblingPacket || _mailboxPending;

    /// <summary>Writes one packet into <paramref name="chain"/> and completes it; false if nothing was ready.</summary>
    private bool FillRxBuffer(DeviceQueue rx, in DescriptorChain chain)
    {
        if (TryDequeueReply(out var reply))
        {
            TraceRx(reply);
            WriteHeader(rx, chain, reply);
            return true;
        }
        for (int attempt = 0; attempt < 2; attempt++)
        {
            bool produced = (_turn++ & 1) == 0 ? FillFromSibling(rx, chain) : FillFromConnections(rx, chain);
            if (produced)
            {
                return true;
            }
        }
        return false;
    }

    private bool FillFromConnections(DeviceQueue rx, in DescriptorChain chain)
    {
        for (int n = _rxReady.Count; n > 0 && _rxReady.TryDequeue(out var connection); n--)
        {
            connection.InRxQueue = false;
            if (connection.ResetPending)
            {
                WriteReset(connection, rx, chain);
                return true;
            }
            if (connection.Closed)
            {
                continue;
            }
            bool produced = Produce(connection, rx, chain);
            ScheduleRx(connection); // back of the line if it has more
            if (produced)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Puts a connection in the rx line if it owes the guest something and is not there yet.</summary>
    private void ScheduleRx(VsockConnection connection)
    {
        if (!connection.InRxQueue && WantsRx(connection))
        {
            connection.InRxQueue = true;
            _rxReady.Enqueue(connection);
        }
    }

    private static bool WantsRx(VsockConnection c)
    {
        if (c.ResetPending)
        {
            return true;
        }
        if (c.Closed)
        {
            return false;
        }
        if (c.SendRequest || c.SendResponse || c.SendCreditUpdate || c.SendShutdownFlags != 0)
        {
            return true;
        }
        return HasDataForGuest(c) && (c.PeerCredit > 0 || !c.CreditRequested);
    }

    private static bool HasDataForGuest(VsockConnection c) =>
        c.State == ConnectionState.Connected && !c.GuestShutReceive && (c.OutMessage is not null || (c.HostReadable && !c.HostEof));

    /// <summary>The next packet a connection owes the guest, in protocol order.</summary>
    private bool Produce(VsockConnection c, DeviceQueue rx, in DescriptorChain chain)
    {
        var header = VsockHeader.Create(VsockConstants.HostCid, c.LocalPort, GuestCid, c.PeerPort, c.Type, VsockOp.Invalid);
        if (c.SendRequest || c.SendResponse)
        {
            header.Op = c.SendRequest ? VsockOp.Request : VsockOp.Response;
            c.SendRequest = c.SendResponse = false;
            return SendControl(c, rx, chain, header);
        }
        if (HasDataForGuest(c))
        {
            if (c.PeerCredit == 0)
            {
                if (!c.CreditRequested)
                {
                    c.CreditRequested = true;
                    c.CreditRequestedAt = Environment.TickCount64;
                    header.Op = VsockOp.CreditRequest;
                    return SendControl(c, rx, chain, header);
                }
            }
            else if (c.Type == VsockType.Stream ? ReadStream(c, rx, chain, ref header) : ReadMessage(c, rx, chain, ref header))
            {
                return true;
            }
            if (c.Closed)
            {
                return false;
            }
        }
        if (c.SendShutdownFlags != 0 && c.OutMessage is null)
        {
            header.Op = VsockOp.Shutdown;
            header.Flags = c.SendShutdownFlags;
            c.SendShutdownFlags = 0;
            return SendControl(c, rx, chain, header);
        }
        if (c.SendCreditUpdate)
        {
            header.Op = VsockOp.CreditUpdate;
            return SendControl(c, rx, chain, header);
        }
        return false;
    }

    /// <summary>Seqpacket: one host message, sent in as many packets as buffers and credit need, EOM on the last.</summary>
    private bool ReadMessage(VsockConnection c, DeviceQueue rx, in DescriptorChain chain, ref VsockHeader header)
    {
        if (c.OutMessage is null && !ReceiveHostMessage(c))
        {
            return false;
        }
        var writer = chain.CreateWriter();
        writer.Skip(VsockHeader.Size);
        int left = c.OutMessageLength - c.OutMessageSent;
        int count = (int)Math.Min(Math.Min((uint)left, writer.Remaining), c.PeerCredit);
        writer.Write(c.OutMessage.AsSpan(c.OutMessageSent, count));
        c.OutMessageSent += count;
        header.Op = VsockOp.Rw;
        header.Len = (uint)count;
        if (c.OutMessageSent == c.OutMessageLength)
        {
            header.Flags = VsockFlags.EndOfMessage;
            ReleaseOutMessage(c);
        }
        c.TxCnt += (uint)count;
        c.StampCredit(ref header);
        TraceRx(header);
        var headerWriter = chain.CreateWriter();
        headerWriter.TryWrite(header);
        rx.Complete(chain, VsockHeader.Size + (uint)count);
        return true;
    }

    /// <summary>
    /// Takes the next message from a seqpacket host socket into OutMessage; false if none. An
    /// empty message and the end of the connection both read as 0 bytes, but every message
    /// carries the sender's credentials (SO_PASSCRED, set in PrepareHostSocket) and the end
    /// carries none: recvmsg without a control buffer reports them as MSG_CTRUNC, so a 0-byte
    /// read without it is the end, whatever order the epoll events came in.
    /// </summary>
    private bool ReceiveHostMessage(VsockConnection c)
    {
        if (!c.Host.Poll(0, SelectMode.SelectRead))
        {
            c.HostReadable = false; // nothing queued (ReceiveMessageFrom reports EAGAIN as an exception)
            return false;
        }
        _messageScratch ??= new byte[MaxHostMessage];
        var flags = SocketFlags.None;
        EndPoint from = AnyUnixEndPoint;
        int n;
        try
        {
            n = c.Host.ReceiveMessageFrom(_messageScratch, ref flags, ref from, out _);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            c.HostReadable = false;
            return false;
        }
        catch (SocketException e)
        {
            Log.HostSocketError(_logger, c.ToString(), e.SocketErrorCode.ToString());
            ResetConnection(c);
            return false;
        }
        if (n == 0 && (flags & SocketFlags.ControlDataTruncated) == 0)
        {
            HostEndOfFile(c);
            return false;
        }
        if ((flags & SocketFlags.Truncated) != 0 || n > c.PeerBufAlloc)
        {
            // The guest could never take it whole (a message may not exceed its buffer).
            Log.MessageTooLarge(_logger, c.ToString(), (flags & SocketFlags.Truncated) != 0 ? $"more than {n}" : $"{n}", Math.Min(c.PeerBufAlloc, MaxHostMessage));
            ResetConnection(c);
            return false;
        }
        c.OutMessage = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(n, 1));
        _messageScratch.AsSpan(0, n).CopyTo(c.OutMessage);
        c.OutMessageLength = n;
        c.OutMessageSent = 0;
        return true;
    }

    /// <summary>
    /// The host read EOF: SHUTDOWN(SEND), the host will send no more. If the host program closed
    /// its socket altogether (EPOLLHUP rather than EPOLLRDHUP alone) it will not receive either:
    /// SHUTDOWN(RCV|SEND), so the guest's writes fail at once instead of resetting later. The
    /// hang-up may not have been dispatched yet, so the socket is asked; one that only half-closed
    /// now gets RCV added when its HUP comes (OnHostEvent).
    /// </summary>
    private void HostEndOfFile(VsockConnection c)
    {
        c.HostEof = true;
        c.HostHangUp |= HasHungUp(c.Host);
        c.SendShutdownFlags |= VsockFlags.ShutdownSend | (c.HostHangUp ? VsockFlags.ShutdownReceive : 0);
    }

    /// <summary>True if the socket reports EPOLLHUP now (both directions shut), asked through a private epoll instance.</summary>
    private bool HasHungUp(Socket socket)
    {
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        _probe.Add(socket.SafeHandle, EpollEvents.In, 0);
        int n = _probe.Wait(events, 0);
        _probe.Remove(socket.SafeHandle);
        return n > 0 && (events[0].Events & (uint)EpollEvents.HangUp) != 0;
    }

    private static void ReleaseOutMessage(VsockConnection c)
    {
        if (c.OutMessage is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(c.OutMessage);
            c.OutMessage = null;
        }
    }

    private bool SendControl(VsockConnection c, DeviceQueue rx, in DescriptorChain chain, VsockHeader header)
    {
        c.StampCredit(ref header);
        TraceRx(header);
        WriteHeader(rx, chain, header);
        return true;
    }

    private static void WriteHeader(DeviceQueue rx, in DescriptorChain chain, in VsockHeader header)
    {
        var writer = chain.CreateWriter();
        writer.TryWrite(header);
        rx.Complete(chain, VsockHeader.Size);
    }

    private void TraceRx(in VsockHeader header)
    {
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            Log.RxPacket(_logger, header.ToString());
        }
    }
}
