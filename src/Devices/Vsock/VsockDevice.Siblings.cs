// VsockDevice.Siblings.cs — guest-to-guest connections between the guests of one daemon that
// share a group (README.md, "Siblings"). The sender's worker copies each packet into the
// receiving device's mailbox (SiblingMailbox); the receiver's worker hands it to its guest in
// pieces that fit its rx buffers, taking turns with its host connections. Headers pass through
// unchanged but for one field: the buf_alloc a guest grants its sibling is capped at this
// device's tx-buffer-size, which is what its mailbox holds per connection — so credit stays end
// to end and a sender within it never overfills the mailbox (SiblingMailbox.cs).
using VhostUser.Backend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    private SiblingPacket? _siblingPacket;
    private int _siblingOffset;
    private bool _mailboxPending;

    private bool HasSiblingPacket => _siblingPacket is not null;

    /// <summary>
    /// A packet for another CID: into that guest's mailbox if it shares a group, runs and speaks
    /// the packet's socket type (spec 5.10.6.4: a type the receiver did not negotiate gets RST),
    /// else RST. A connection the mailbox has to reset is reset at both ends, and so is one that
    /// gets a packet with an op that does not exist (as the host side resets it: never passed on).
    /// </summary>
    private void ForwardToSibling(in VsockHeader header, ref ChainReader reader)
    {
        if (header.Op is < VsockOp.Request or > VsockOp.CreditRequest)
        {
            Log.MalformedPacket(_logger, $"op {(ushort)header.Op} does not exist", header.Len);
            ResetSiblingConnection(header);
            return;
        }
        var sibling = _registry.FindSibling(this, header.DstCid);
        if (sibling is null || !sibling.IsRunning || (header.Type == VsockType.SeqPacket && !sibling.SeqPacketNegotiated))
        {
            if (sibling is not null)
            {
                Log.SiblingUnavailable(_logger, header.DstCid);
            }
            ReplyReset(header);
            return;
        }
        var copy = header;
        if (copy.Op != VsockOp.Rw)
        {
            copy.Len = 0; // only data packets carry payload
        }
        copy.BufAlloc = Math.Min(copy.BufAlloc, _mailbox.ConnectionBytes); // no more than our mailbox holds for the reply direction
        if (sibling._mailbox.Post(copy, ref reader) == PostResult.Reset)
        {
            Log.SiblingConnectionReset(_logger, header.ToString(), header.DstCid);
            ReplyReset(header);
        }
    }

    /// <summary>A malformed packet for a sibling connection: the connection is reset at both ends (the receiver would miss its data).</summary>
    private void ResetSiblingConnection(in VsockHeader header)
    {
        if (_registry.FindSibling(this, header.DstCid) is { IsRunning: true } sibling)
        {
            sibling._mailbox.Reset(header);
        }
        ReplyReset(header);
    }

    /// <summary>One piece of the current sibling packet (split to the guest's buffer size, EOM/EOR on the last piece).</summary>
    private bool FillFromSibling(DeviceQueue rx, in DescriptorChain chain)
    {
        if (_siblingPacket is null)
        {
            if (!_mailboxPending)
            {
                return false;
            }
            if (!_mailbox.TryTake(out _siblingPacket))
            {
                _mailboxPending = false;
                return false;
            }
            _siblingOffset = 0;
        }
        var packet = _siblingPacket!;
        var header = packet.Header;
        var writer = chain.CreateWriter();
        writer.Skip(VsockHeader.Size);
        int count = (int)Math.Min(header.Len - (uint)_siblingOffset, writer.Remaining);
        if (count > 0)
        {
            writer.Write(packet.Payload.AsSpan(_siblingOffset, count));
        }
        _siblingOffset += count;
        bool last = _siblingOffset == (int)header.Len;
        if (!last && header.Type == VsockType.SeqPacket)
        {
            header.Flags &= ~(VsockFlags.EndOfMessage | VsockFlags.EndOfRecord);
        }
        header.Len = (uint)count;
        TraceRx(header);
        var headerWriter = chain.CreateWriter();
        headerWriter.TryWrite(header);
        rx.Complete(chain, VsockHeader.Size + (uint)count);
        if (last)
        {
            ReturnSiblingPacket();
        }
        return true;
    }

    private void ReturnSiblingPacket()
    {
        if (_siblingPacket is not null)
        {
            SiblingMailbox.Return(_siblingPacket);
            _siblingPacket = null;
        }
    }

    private void OnMailboxSignal()
    {
        _mailbox.DrainSignal();
        _mailboxPending = true;
        PumpRx();
    }
}
