// VsockDevice.Resets.cs — the RSTs the device owes the guest (virtio spec 5.10.6.4), kept so that
// none is lost while the guest posts no rx buffers: a lost RST leaves a guest socket waiting for
// ever (in connect, or in read). Two kinds:
//   * a connection the device resets stays in the connection table, host side closed, until its
//     RST is written (ResetPending): pending resets are bounded by MaxConnections like the
//     connections themselves, and a REQUEST that reuses the address replaces the stale one;
//   * a reply to a packet for no known connection (a refused REQUEST, a packet after a reset) is
//     queued once per address, at most MaxControlReplies of them, and withdrawn if the guest
//     opens a connection on that address meanwhile.
// Worker thread only.
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    /// <summary>Most replies to packets for unknown connections waiting for rx buffers (one per address); more are dropped.</summary>
    public const int MaxControlReplies = VsockVmOptions.ConnectionLimit;

    private readonly Queue<VsockHeader> _control = new();

    /// <summary>Addresses with a reply in _control; a reply whose address is no longer here was withdrawn.</summary>
    private readonly HashSet<ReplyAddress> _controlAddresses = [];
    private bool _replyDropLogged;

    /// <summary>Where a reply goes: the guest port, the port (and CID) it answers for, the socket type.</summary>
    private readonly record struct ReplyAddress(ulong SrcCid, uint SrcPort, uint DstPort, VsockType Type)
    {
        public static ReplyAddress Of(in VsockHeader reply) => new(reply.SrcCid, reply.SrcPort, reply.DstPort, reply.Type);
    }

    /// <summary>Answers a packet that belongs to no connection with RST (spec 5.10.6.4; never an RST for an RST).</summary>
    private void ReplyReset(in VsockHeader header)
    {
        if (header.Op == VsockOp.Rst)
        {
            return;
        }
        var reply = header.ResetReply();
        if (_controlAddresses.Count >= MaxControlReplies)
        {
            if (!_replyDropLogged)
            {
                _replyDropLogged = true; // once until the guest takes replies again: a flood must not flood the log
                Log.ControlQueueFull(_logger, reply.ToString());
            }
            return;
        }
        if (_controlAddresses.Add(ReplyAddress.Of(reply)))
        {
            _control.Enqueue(reply);
        }
    }

    /// <summary>The guest opens a connection on this address: an RST still queued for it would hit the new socket.</summary>
    private void WithdrawReply(ulong srcCid, uint localPort, uint peerPort, VsockType type) =>
        _controlAddresses.Remove(new ReplyAddress(srcCid, localPort, peerPort, type));

    /// <summary>The oldest reply that was not withdrawn.</summary>
    private bool TryDequeueReply(out VsockHeader reply)
    {
        while (_control.TryDequeue(out reply))
        {
            if (_controlAddresses.Remove(ReplyAddress.Of(reply)))
            {
                _replyDropLogged = false;
                return true;
            }
        }
        return false;
    }

    private void ClearReplies()
    {
        _control.Clear();
        _controlAddresses.Clear();
    }

    /// <summary>
    /// Closes the host side and owes the guest an RST. The connection keeps its place in the
    /// table until the RST is written (WriteReset), so that it is never dropped for want of rx
    /// buffers; packets the guest sends meanwhile are ignored (the RST is on its way).
    /// </summary>
    private void ResetConnection(VsockConnection c)
    {
        if (c.Closed)
        {
            return;
        }
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.ConnectionClosed(_logger, c.ToString(), "reset sent");
        }
        CloseHostSide(c);
        c.ResetPending = true;
        c.Deadline = 0;
        c.CreditRequested = false;
        ScheduleRx(c);
    }

    /// <summary>Writes the RST a reset connection owes and forgets the connection.</summary>
    private void WriteReset(VsockConnection c, Backend.DeviceQueue rx, in Virtio.DescriptorChain chain)
    {
        var header = VsockHeader.Create(VsockConstants.HostCid, c.LocalPort, GuestCid, c.PeerPort, c.Type, VsockOp.Rst);
        TraceRx(header);
        WriteHeader(rx, chain, header);
        Forget(c);
    }

    /// <summary>Removes a connection from the table (unless a new connection has taken its address).</summary>
    private void Forget(VsockConnection c)
    {
        c.ResetPending = false;
        if (_connections.TryGetValue(c.Key, out var current) && current == c)
        {
            _connections.Remove(c.Key);
        }
    }
}
