// VsockConnection.cs — one vsock connection between the guest and a host Unix socket: its
// address, its state, both directions' credit (virtio spec 5.10.6.3) and the replies it owes the
// guest. Everything here runs on the device's worker thread; the class holds state and the credit
// arithmetic, VsockDevice.* moves the bytes.
//
// Credit, in u32 arithmetic that wraps on purpose:
//   host→guest: we may send PeerBufAlloc − (TxCnt − PeerFwdCnt) more payload bytes.
//   guest→host: we advertise BufAlloc and FwdCnt (bytes the host socket took); the guest may have
//               BufAlloc − (RxCnt − FwdCnt) bytes outstanding, all of which fit in Pending.
using System.Net.Sockets;

namespace VhostUser.Devices.Vsock;

/// <summary>Where a connection is in its life.</summary>
internal enum ConnectionState
{
    /// <summary>Host-initiated: REQUEST queued or sent, waiting for the guest's RESPONSE.</summary>
    Connecting,
    /// <summary>Data flows.</summary>
    Connected,
    /// <summary>Both sides have shut down (or we sent a full SHUTDOWN): waiting for the last bytes and the RST.</summary>
    Closing,
}

/// <summary>One bridged connection (worker thread only).</summary>
internal sealed class VsockConnection(uint localPort, uint peerPort, VsockType type, Socket host, uint bufAlloc)
{
    /// <summary>The host side's port (dst_port of the guest's packets).</summary>
    public uint LocalPort { get; } = localPort;

    /// <summary>The guest side's port.</summary>
    public uint PeerPort { get; } = peerPort;

    public VsockType Type { get; } = type;

    public Socket Host { get; } = host;

    public IDisposable? Watch { get; set; }

    public ConnectionState State { get; set; }

    /// <summary>Environment.TickCount64 deadline for the current state (connecting, closing), or 0.</summary>
    public long Deadline { get; set; }

    public bool Closed { get; set; }

    /// <summary>The device reset the connection (host side closed) and still owes the guest the RST; it stays in the table until then.</summary>
    public bool ResetPending { get; set; }

    /// <summary>True while the connection sits in the device's rx-ready queue.</summary>
    public bool InRxQueue { get; set; }

    // Replies owed to the guest, sent in this order when rx buffers allow.
    public bool SendRequest { get; set; }
    public bool SendResponse { get; set; }
    public bool SendCreditUpdate { get; set; }
    public bool SendCreditRequest { get; set; }

    /// <summary>SHUTDOWN flags still to send (VsockFlags.Shutdown*), 0 if none.</summary>
    public uint SendShutdownFlags { get; set; }

    /// <summary>A CREDIT_REQUEST went out and no credit came back yet (do not repeat it every packet).</summary>
    public bool CreditRequested { get; set; }

    /// <summary>TickCount64 of the last CREDIT_REQUEST, to repeat it if the guest stays silent.</summary>
    public long CreditRequestedAt { get; set; }

    // Host→guest credit (the guest's receive buffer).
    public uint PeerBufAlloc { get; set; }
    public uint PeerFwdCnt { get; set; }
    public uint TxCnt { get; set; }

    // Guest→host credit (our buffer).
    public uint BufAlloc { get; } = bufAlloc;
    public uint RxCnt { get; set; }
    public uint FwdCnt { get; set; }
    public uint LastSentFwdCnt { get; set; }

    /// <summary>Guest→host bytes the host socket has not taken yet.</summary>
    public HostBuffer Pending { get; } = new((int)bufAlloc);

    // Host socket state (edge-triggered readiness, remembered until EAGAIN).
    public bool HostReadable { get; set; }
    public bool HostHangUp { get; set; }
    public bool HostEof { get; set; }
    public bool WriteShutDone { get; set; }

    // What the guest told us.
    public bool GuestShutSend { get; set; }
    public bool GuestShutReceive { get; set; }

    /// <summary>Seqpacket host→guest: the message being sent in pieces, its length and how much went.</summary>
    public byte[]? OutMessage { get; set; }
    public int OutMessageLength { get; set; }
    public int OutMessageSent { get; set; }

    /// <summary>Key of the connection in the device's table.</summary>
    public ulong Key => MakeKey(LocalPort, PeerPort);

    /// <summary>Bytes we may still send to the guest.</summary>
    public uint PeerCredit
    {
        get
        {
            uint inFlight = TxCnt - PeerFwdCnt;
            return inFlight >= PeerBufAlloc ? 0 : PeerBufAlloc - inFlight;
        }
    }

    /// <summary>The room the guest believes it has in our buffer (from the fwd_cnt we last told it).</summary>
    public uint GuestViewOfCredit
    {
        get
        {
            uint outstanding = RxCnt - LastSentFwdCnt;
            return outstanding >= BufAlloc ? 0 : BufAlloc - outstanding;
        }
    }

    /// <summary>(local port, peer port) as one dictionary key; the CIDs are fixed per device.</summary>
    public static ulong MakeKey(uint localPort, uint peerPort) => ((ulong)localPort << 32) | peerPort;

    /// <summary>Takes the credit fields of a packet from the guest.</summary>
    public void UpdatePeerCredit(uint bufAlloc, uint fwdCnt)
    {
        PeerBufAlloc = bufAlloc;
        PeerFwdCnt = fwdCnt;
        if (CreditRequested && PeerCredit > 0)
        {
            CreditRequested = false;
        }
    }

    /// <summary>Fills the credit fields of a packet we send and remembers what the guest now knows.</summary>
    public void StampCredit(ref VsockHeader header)
    {
        header.BufAlloc = BufAlloc;
        header.FwdCnt = FwdCnt;
        LastSentFwdCnt = FwdCnt;
        SendCreditUpdate = false;
    }

    public override string ToString() => $"{Type} 2:{LocalPort}<->guest:{PeerPort} {State}";
}
