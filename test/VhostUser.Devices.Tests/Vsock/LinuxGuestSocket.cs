// LinuxGuestSocket.cs — one guest stream socket as Linux's virtio_transport_common.c keeps it,
// for tests that drive the device the way a real guest does (read there to learn the rules; the
// code is ours):
//   * every packet sent carries buf_alloc and fwd_cnt, and sending one records fwd_cnt as reported;
//   * fwd_cnt grows only when the application has consumed a whole packet;
//   * a CREDIT_UPDATE goes out only after a read, and only when the peer's view of the free space
//     fell below 64 KiB (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) or — from Linux 6.7 on — the receive
//     queue ran empty; CREDIT_REQUEST is answered with a CREDIT_UPDATE;
//   * data packets are at most 64 KiB and within the peer's credit; a packet beyond the socket's
//     buf_alloc is dropped by Linux (the test fails instead: the device broke the credit rule).
using VhostUser.Devices.Vsock;

namespace VhostUser.Devices.Tests.Vsock;

internal sealed class LinuxGuestSocket(VsockGuestDriver driver, uint localPort, uint peerPort, CreditPolicy policy, uint bufAlloc = 256 * 1024)
{
    public const uint MaxPacket = 64 * 1024;

    private readonly Queue<byte[]> _rxQueue = new();
    private int _rxOffset;
    private uint _rxBytes;
    private uint _fwdCnt;
    private uint _lastFwdCnt;
    private uint _peerBufAlloc;
    private uint _peerFwdCnt;
    private uint _txCnt;

    public bool PeerShutSend { get; private set; }

    public bool Reset { get; private set; }

    public int CreditRequestsSeen { get; private set; }

    public int CreditUpdatesSent { get; private set; }

    public bool HasData => _rxBytes > 0;

    private uint PeerCredit => _peerBufAlloc - (_txCnt - _peerFwdCnt);

    /// <summary>The kernel's receive path for one packet of this connection.</summary>
    public void OnPacket(in VsockHeader header, byte[] payload)
    {
        Assert.Equal(localPort, header.DstPort);
        _peerBufAlloc = header.BufAlloc;
        _peerFwdCnt = header.FwdCnt;
        switch (header.Op)
        {
            case VsockOp.Rw:
                Assert.True(_rxBytes + header.Len <= bufAlloc, $"the device sent {header.Len} bytes with {_rxBytes} of {bufAlloc} unread: beyond the guest's credit");
                if (payload.Length > 0)
                {
                    _rxQueue.Enqueue(payload);
                    _rxBytes += (uint)payload.Length;
                }
                break;
            case VsockOp.CreditRequest:
                CreditRequestsSeen++;
                SendControl(VsockOp.CreditUpdate);
                break;
            case VsockOp.Shutdown:
                PeerShutSend |= (header.Flags & VsockFlags.ShutdownSend) != 0;
                break;
            case VsockOp.Rst:
                Reset = true;
                break;
            case VsockOp.CreditUpdate:
            case VsockOp.Request:
            case VsockOp.Response:
                break;
            default:
                Assert.Fail($"unexpected {header}");
                break;
        }
    }

    /// <summary>connect(): a REQUEST.</summary>
    public void Connect() => driver.Send(Header(VsockOp.Request));

    /// <summary>accept(): the RESPONSE to the peer's REQUEST.</summary>
    public void Accept() => driver.Send(Header(VsockOp.Response));

    /// <summary>The application reads into <paramref name="destination"/>; returns the bytes read.</summary>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length && _rxQueue.TryPeek(out var packet))
        {
            int n = Math.Min(destination.Length - total, packet.Length - _rxOffset);
            packet.AsSpan(_rxOffset, n).CopyTo(destination[total..]);
            total += n;
            _rxOffset += n;
            if (_rxOffset == packet.Length)
            {
                _rxQueue.Dequeue();
                _rxOffset = 0;
                _rxBytes -= (uint)packet.Length;
                _fwdCnt += (uint)packet.Length; // whole packets only, as virtio_transport_dec_rx_pkt
            }
        }
        uint delta = _fwdCnt - _lastFwdCnt;
        bool drained = policy == CreditPolicy.ThresholdOrDrained && _rxBytes == 0;
        if (total > 0 && delta > 0 && (bufAlloc - delta < MaxPacket || drained))
        {
            SendControl(VsockOp.CreditUpdate);
        }
        return total;
    }

    /// <summary>The application writes; returns the bytes the kernel sent within the peer's credit (0: it would block).</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int sent = 0;
        while (sent < data.Length && PeerCredit > 0)
        {
            int n = (int)Math.Min(Math.Min((uint)(data.Length - sent), MaxPacket), PeerCredit);
            var header = Header(VsockOp.Rw);
            driver.Send(header, data.Slice(sent, n));
            _txCnt += (uint)n;
            sent += n;
        }
        return sent;
    }

    /// <summary>close(): a full SHUTDOWN.</summary>
    public void Shutdown()
    {
        var header = Header(VsockOp.Shutdown);
        header.Flags = VsockFlags.ShutdownSend | VsockFlags.ShutdownReceive;
        driver.Send(header);
    }

    private void SendControl(VsockOp op)
    {
        if (op == VsockOp.CreditUpdate)
        {
            CreditUpdatesSent++;
        }
        driver.Send(Header(op));
    }

    private VsockHeader Header(VsockOp op)
    {
        _lastFwdCnt = _fwdCnt; // virtio_transport_inc_tx_pkt: every packet reports fwd_cnt
        return driver.Header(localPort, VsockConstants.HostCid, peerPort, op, bufAlloc: bufAlloc, fwdCnt: _fwdCnt);
    }
}
