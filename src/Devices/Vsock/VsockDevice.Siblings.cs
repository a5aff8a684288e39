// VsockDevice.Siblings.cs — guest-to-guest connections between the guests of one daemon that
// share a group (README.md, "Siblings"). The sender's worker copies each packet into the
// receiving device's mailbox (SiblingMailbox); the receiver's worker hands it to its guest in
// pieces that fit its rx buffers, taking turns with its host connections. Headers pass through
// unchanged, so credit is end to end between the two guests.
using VhostUser.Backend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    private SiblingPacket _siblingPacket;
    private bool _hasSiblingPacket;
    private int _siblingOffset;
    private bool _mailboxPending;

    /// <summary>A packet for another CID: into that guest's mailbox if it shares a group and runs, else RST.</summary>
    private void ForwardToSibling(in VsockHeader header, ref ChainReader reader)
    {
        var sibling = _registry.FindSibling(this, header.DstCid);
        var copy = header;
        if (copy.Op != VsockOp.Rw)
        {
            copy.Len = 0; // only data packets carry payload
        }
        if (sibling is null || !sibling.IsRunning || !sibling._mailbox.TryPost(copy, ref reader))
        {
            if (sibling is not null)
            {
                Log.SiblingUnavailable(_logger, header.DstCid);
            }
            ReplyReset(header);
        }
    }

    /// <summary>One piece of the current sibling packet (split to the guest's buffer size, EOM/EOR on the last piece).</summary>
    private bool FillFromSibling(DeviceQueue rx, in DescriptorChain chain)
    {
        if (!_hasSiblingPacket)
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
            _hasSiblingPacket = true;
            _siblingOffset = 0;
        }
        var header = _siblingPacket.Header;
        var writer = chain.CreateWriter();
        writer.Skip(VsockHeader.Size);
        int count = (int)Math.Min(header.Len - (uint)_siblingOffset, writer.Remaining);
        if (count > 0)
        {
            writer.Write(_siblingPacket.Payload.AsSpan(_siblingOffset, count));
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
            SiblingMailbox.Return(_siblingPacket);
            _siblingPacket = default;
            _hasSiblingPacket = false;
        }
        return true;
    }

    private void OnMailboxSignal()
    {
        _mailbox.DrainSignal();
        _mailboxPending = true;
        PumpRx();
    }
}
