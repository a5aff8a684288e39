// VsockDevice.Tx.cs — packets from the guest (the tx ring, virtio spec 5.10.6.5 "Device
// Operation: Sending"). Each chain is one packet: a 44-byte header copied out and validated, then
// handled at once — data goes to the host socket straight from guest memory, or into the
// connection's bounded buffer when the host lags — and the chain is completed. The tx ring never
// waits for rx buffers: replies are owed per connection (flags, and a reset connection keeps its
// place until its RST is written) or queued once per address (VsockDevice.Resets.cs).
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    /// <summary>Complete seqpacket messages a connection may have waiting for a slow host.</summary>
    public const int MaxQueuedMessages = 4096;

    private void ProcessTx(DeviceQueue queue)
    {
        while (queue.TryPop(out var chain))
        {
            HandleTxPacket(chain);
            queue.Complete(chain, 0);
        }
        PumpRx();
    }

    private void HandleTxPacket(in DescriptorChain chain)
    {
        var reader = chain.CreateReader();
        if (!reader.TryRead(out VsockHeader header))
        {
            Log.MalformedPacket(_logger, "shorter than the 44-byte header", chain.ReadableLength);
            return;
        }
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            Log.TxPacket(_logger, header.ToString());
        }
        if (header.SrcCid != GuestCid)
        {
            Log.SpoofedSource(_logger, header.SrcCid, GuestCid);
            return; // nobody to answer: the source is not this guest
        }
        if (header.Type != VsockType.Stream && (header.Type != VsockType.SeqPacket || !SeqPacketNegotiated))
        {
            ReplyReset(header); // spec 5.10.6.4: unknown or unsupported socket type
            return;
        }
        if (header.Len > reader.Remaining)
        {
            Log.MalformedPacket(_logger, $"len {header.Len} exceeds the {reader.Remaining} bytes that follow the header", chain.ReadableLength);
            if (header.Op != VsockOp.Rst)
            {
                ResetMalformed(header); // its data is lost: reset the connection rather than leave a hole in it
                return;
            }
            header.Len = 0; // an RST carries no data: take it as it is
        }
        if (header.DstCid == VsockConstants.HostCid)
        {
            HandleHostPacket(header, ref reader);
        }
        else
        {
            ForwardToSibling(header, ref reader);
        }
    }

    /// <summary>Resets the connection a malformed packet belongs to (both ends for a sibling's), or answers it with RST.</summary>
    private void ResetMalformed(in VsockHeader header)
    {
        if (header.DstCid != VsockConstants.HostCid)
        {
            ResetSiblingConnection(header);
        }
        else if (_connections.TryGetValue(VsockConnection.MakeKey(header.DstPort, header.SrcPort), out var connection)
            && connection.Type == header.Type && !connection.ResetPending)
        {
            ResetConnection(connection);
        }
        else
        {
            ReplyReset(header);
        }
    }

    private void HandleHostPacket(in VsockHeader header, ref ChainReader reader)
    {
        _connections.TryGetValue(VsockConnection.MakeKey(header.DstPort, header.SrcPort), out var connection);
        if (header.Op == VsockOp.Request)
        {
            if (connection is not null)
            {
                DropConnection(connection, "address reused by a new REQUEST"); // the guest reused the address: the old one is gone (guest reboot)
            }
            ConnectToHost(header);
            return;
        }
        if (connection is null)
        {
            ReplyReset(header); // spec 5.10.6.4: a packet for an unknown connection gets RST (never an RST for an RST)
            return;
        }
        if (connection.ResetPending)
        {
            if (header.Op == VsockOp.Rst)
            {
                Forget(connection); // the guest closed it too: our RST is not needed any more
            }
            return; // our RST is on its way
        }
        if (connection.Type != header.Type)
        {
            if (header.Op != VsockOp.Rst)
            {
                ResetConnection(connection); // never an RST for an RST: one of another type is not for this connection
            }
            return;
        }
        connection.UpdatePeerCredit(header.BufAlloc, header.FwdCnt);
        switch (header.Op)
        {
            case VsockOp.Response: OnGuestResponse(connection); break;
            case VsockOp.Rst: DropConnection(connection); return;
            case VsockOp.Shutdown: OnGuestShutdown(connection, header.Flags); break;
            case VsockOp.Rw: OnGuestData(connection, header, ref reader); break;
            case VsockOp.CreditUpdate: break;
            case VsockOp.CreditRequest: connection.SendCreditUpdate = true; break;
            default: ResetConnection(connection); return;
        }
        ScheduleRx(connection);
    }

    private void OnGuestResponse(VsockConnection connection)
    {
        if (connection.State != ConnectionState.Connecting)
        {
            ResetConnection(connection);
            return;
        }
        connection.State = ConnectionState.Connected;
        connection.Deadline = 0;
        // Hybrid vsock: the host program learns that the guest accepted, and the host-side port
        // the device assigned to its end ("OK <local port>\n", as Firecracker and cloud-hypervisor
        // write it; see README.md).
        Span<byte> line = stackalloc byte[16];
        "OK "u8.CopyTo(line);
        connection.LocalPort.TryFormat(line[3..], out int digits);
        line[3 + digits] = (byte)'\n';
        int length = 4 + digits;
        if (connection.Host.Send(line[..length], SocketFlags.None, out var error) != length || error != SocketError.Success)
        {
            ResetConnection(connection);
        }
    }

    private void OnGuestShutdown(VsockConnection connection, uint flags)
    {
        if ((flags & VsockFlags.ShutdownReceive) != 0 && !connection.GuestShutReceive)
        {
            connection.GuestShutReceive = true;
            ReleaseOutMessage(connection);
            TryShutdownHost(connection, SocketShutdown.Receive); // the host's further writes fail (EPIPE)
        }
        if ((flags & VsockFlags.ShutdownSend) != 0)
        {
            connection.GuestShutSend = true;
        }
        if (connection.GuestShutSend && connection.GuestShutReceive && connection.State != ConnectionState.Closing)
        {
            connection.State = ConnectionState.Closing;
            connection.Deadline = Environment.TickCount64 + CloseTimeoutMs;
        }
        FlushToHost(connection); // shuts the host's write side down once our buffer is empty
    }

    private void OnGuestData(VsockConnection connection, in VsockHeader header, ref ChainReader reader)
    {
        if (connection.State != ConnectionState.Connected || connection.GuestShutSend)
        {
            ResetConnection(connection); // data before RESPONSE or after SHUTDOWN(SEND)
            return;
        }
        connection.RxCnt += header.Len;
        bool delivered = connection.Type == VsockType.Stream
            ? DeliverStream(connection, ref reader, (int)header.Len)
            : DeliverMessage(connection, ref reader, (int)header.Len, (header.Flags & VsockFlags.EndOfMessage) != 0);
        if (!delivered)
        {
            return;
        }
        MaybeSendCredit(connection);
    }

    /// <summary>Stream data: straight to the host socket while it keeps up, else into the bounded buffer.</summary>
    private bool DeliverStream(VsockConnection connection, ref ChainReader reader, int length)
    {
        while (length > 0 && connection.Pending.Count == 0)
        {
            var span = reader.ReadSpan(length);
            length -= span.Length;
            int sent = SendToHost(connection, span);
            if (sent < 0)
            {
                return false;
            }
            connection.FwdCnt += (uint)sent;
            if (sent < span.Length && !AppendPending(connection, span[sent..]))
            {
                return false;
            }
        }
        while (length > 0)
        {
            var span = reader.ReadSpan(length);
            length -= span.Length;
            if (!AppendPending(connection, span))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Seqpacket data: assembled until EOM, then sent as one host message.</summary>
    private bool DeliverMessage(VsockConnection connection, ref ChainReader reader, int length, bool endOfMessage)
    {
        if (endOfMessage && connection.Pending.Count == 0)
        {
            // One-packet message and nothing queued: send it from guest memory if it is contiguous.
            var span = reader.ReadSpan(length);
            if (span.Length == length)
            {
                int sent = SendToHost(connection, span);
                if (sent < 0)
                {
                    return false;
                }
                if (sent == length)
                {
                    connection.FwdCnt += (uint)length;
                    return true;
                }
            }
            if (!AppendPending(connection, span))
            {
                return false;
            }
            length -= span.Length;
        }
        while (length > 0)
        {
            var span = reader.ReadSpan(length);
            length -= span.Length;
            if (!AppendPending(connection, span))
            {
                return false;
            }
        }
        if (endOfMessage)
        {
            connection.Pending.CompleteMessage();
            if (connection.Pending.MessageCount > MaxQueuedMessages)
            {
                Log.CreditViolation(_logger, connection.ToString(), "too many queued messages");
                ResetConnection(connection);
                return false;
            }
            FlushToHost(connection);
        }
        return !connection.Closed;
    }

    private bool AppendPending(VsockConnection connection, ReadOnlySpan<byte> bytes)
    {
        if (connection.Pending.TryAppend(bytes))
        {
            return true;
        }
        Log.CreditViolation(_logger, connection.ToString(), $"{bytes.Length} more bytes with {connection.Pending.Count} of {connection.BufAlloc} already waiting");
        ResetConnection(connection);
        return false;
    }

    /// <summary>Tells the guest about freed buffer space once it may run short (half the window).</summary>
    private void MaybeSendCredit(VsockConnection connection)
    {
        if (!connection.Closed && connection.FwdCnt != connection.LastSentFwdCnt && connection.GuestViewOfCredit < connection.BufAlloc / 2)
        {
            connection.SendCreditUpdate = true;
            ScheduleRx(connection);
        }
    }
}
