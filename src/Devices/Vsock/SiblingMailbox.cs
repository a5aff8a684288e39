// SiblingMailbox.cs — packets from sibling guests (same daemon, a shared group) waiting for this
// guest's rx buffers. The sending guest's worker posts (copying the payload out of its guest
// memory into a pooled array), this device's worker takes; a lock guards the queue and an eventfd
// wakes the taker.
//
// Credit is end to end (virtio spec 5.10.6.3): the headers pass through, except that the
// buf_alloc a guest grants its sibling is capped at its own tx-buffer-size on the way out
// (VsockDevice.ForwardToSibling). So a sender within its credit never has more than
// ConnectionBytes of data here per connection — queued bytes are a part of the bytes in flight —
// and the mailbox is accounted per connection rather than as one shared pool that busy
// connections could fill for the others:
//   * data beyond ConnectionBytes is a credit violation;
//   * stream data is appended to the connection's last queued data packet when it fits (a stream
//     of 1-byte packets is not 1-byte packets here), credit updates of a connection with packets
//     queued only refresh the credit the next one carries (every packet carries it), and a second
//     credit request while one waits is dropped — so within credit a connection never has more
//     than a few packets queued, except for seqpacket, where each message is one (at most
//     MaxPacketsPerConnection);
//   * at most MaxConnections connections have packets queued at once.
// What breaks these rules resets the connection at both ends: the sender gets RST from its
// device, and this guest gets an RST queued behind what was accepted (a prefix of the stream,
// never a stream with a hole), after which the connection's packets are dropped until that RST
// was taken. Those RSTs may exceed MaxConnections, up to twice as many connections.
using System.Buffers;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

/// <summary>One packet in transit between sibling guests; the mailbox owns it until taken, then the taker returns it.</summary>
internal sealed class SiblingPacket(VsockHeader header, byte[]? payload)
{
    /// <summary>The header as the sender wrote it (Len: the payload bytes; credit refreshed when taken).</summary>
    public VsockHeader Header = header;

    /// <summary>Pooled array holding Header.Len payload bytes (null if none); its spare room takes appended stream data.</summary>
    public byte[]? Payload { get; } = payload;
}

/// <summary>What became of a posted packet.</summary>
internal enum PostResult
{
    /// <summary>Queued (or folded into what is queued).</summary>
    Accepted,
    /// <summary>The connection is being reset at this end already: nothing to do.</summary>
    Dropped,
    /// <summary>The connection was reset: an RST for this guest is queued; the sender must get one too.</summary>
    Reset,
}

/// <summary>Packets for one guest from its siblings, accounted per connection, with an eventfd for the taker.</summary>
internal sealed class SiblingMailbox(uint connectionBytes, int maxConnections) : IDisposable
{
    /// <summary>Most packets one connection may have queued (seqpacket messages, control packets).</summary>
    public const int MaxPacketsPerConnection = VsockDevice.MaxQueuedMessages;

    /// <summary>Stream data is gathered in arrays of this size (or the connection's window, if smaller).</summary>
    private const int GatherBytes = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly Queue<SiblingPacket> _packets = new();
    private readonly Dictionary<Key, Account> _accounts = [];
    private readonly EventFd _signal = EventFd.Create();

    /// <summary>Most data bytes one connection may have queued: the credit this guest can have granted.</summary>
    public uint ConnectionBytes { get; } = connectionBytes;

    /// <summary>Most connections with packets queued at once.</summary>
    public int MaxConnections { get; } = maxConnections;

    /// <summary>Readable when packets were posted (watched on the taker's worker).</summary>
    public FileDescriptor Signal => _signal.Descriptor;

    /// <summary>A connection as this guest sees it: the sibling's CID and port, this guest's port, the type.</summary>
    private readonly record struct Key(ulong SrcCid, uint SrcPort, uint DstPort, VsockType Type)
    {
        public static Key Of(in VsockHeader header) => new(header.SrcCid, header.SrcPort, header.DstPort, header.Type);
    }

    /// <summary>What one connection has queued.</summary>
    private sealed class Account(uint bufAlloc, uint fwdCnt)
    {
        public long Bytes;
        public int Packets;
        public SiblingPacket? Last;
        public SiblingPacket? Reset;
        public bool CreditRequestQueued;
        public uint BufAlloc = bufAlloc;
        public uint FwdCnt = fwdCnt;
    }

    /// <summary>Copies a packet (header plus <c>header.Len</c> bytes read from <paramref name="payload"/>) in.</summary>
    public PostResult Post(in VsockHeader header, ref ChainReader payload)
    {
        var key = Key.Of(header);
        bool signal;
        lock (_lock)
        {
            _accounts.TryGetValue(key, out var account);
            if (account?.Reset is not null && header.Op != VsockOp.Request)
            {
                return PostResult.Dropped; // reset at both ends already; a REQUEST starts a new connection behind the RST
            }
            if (account is not null)
            {
                account.Reset = null;
                account.BufAlloc = header.BufAlloc;
                account.FwdCnt = header.FwdCnt;
                if (TryFold(account, header, ref payload))
                {
                    return PostResult.Accepted;
                }
            }
            if (account is null ? _accounts.Count >= MaxConnections : account.Packets >= MaxPacketsPerConnection)
            {
                return ResetLocked(key, account, header);
            }
            if (header.Op == VsockOp.Rw && (account?.Bytes ?? 0) + header.Len > ConnectionBytes)
            {
                return ResetLocked(key, account, header); // beyond the credit this guest can have granted
            }
            account ??= AddAccount(key, header);
            signal = Enqueue(account, new SiblingPacket(header, CopyPayload(header, ref payload)));
            account.CreditRequestQueued |= header.Op == VsockOp.CreditRequest;
        }
        if (signal)
        {
            _signal.Signal();
        }
        return PostResult.Accepted;
    }

    /// <summary>Resets a connection at this end (the sender's packet was malformed): an RST for this guest, as for a violation.</summary>
    public void Reset(in VsockHeader header)
    {
        var key = Key.Of(header);
        lock (_lock)
        {
            _accounts.TryGetValue(key, out var account);
            if (account?.Reset is null)
            {
                ResetLocked(key, account, header);
            }
        }
    }

    /// <summary>Takes the oldest packet, its credit fields the newest the sender gave (the taker returns it).</summary>
    public bool TryTake(out SiblingPacket? packet)
    {
        lock (_lock)
        {
            if (!_packets.TryDequeue(out packet))
            {
                return false;
            }
            var key = Key.Of(packet.Header);
            var account = _accounts[key];
            account.Packets--;
            account.Bytes -= packet.Header.Len;
            account.Last = account.Last == packet ? null : account.Last;
            account.CreditRequestQueued &= packet.Header.Op != VsockOp.CreditRequest;
            if (account.Reset == packet)
            {
                account.Reset = null;
            }
            else
            {
                packet.Header.BufAlloc = account.BufAlloc;
                packet.Header.FwdCnt = account.FwdCnt;
            }
            if (account.Packets == 0)
            {
                _accounts.Remove(key);
            }
            return true;
        }
    }

    /// <summary>Resets the eventfd (the taker then drains the queue).</summary>
    public void DrainSignal() => _signal.Drain();

    /// <summary>Drops everything queued (the guest went away).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            while (_packets.TryDequeue(out var packet))
            {
                Return(packet);
            }
            _accounts.Clear();
        }
        _signal.Drain();
    }

    /// <summary>Gives a taken packet's array back.</summary>
    public static void Return(SiblingPacket packet)
    {
        if (packet.Payload is not null)
        {
            ArrayPool<byte>.Shared.Return(packet.Payload);
        }
    }

    public void Dispose()
    {
        Clear();
        _signal.Dispose();
    }

    /// <summary>Folds a packet into what the connection has queued, if it adds nothing a queued packet does not say.</summary>
    private bool TryFold(Account account, in VsockHeader header, ref ChainReader payload)
    {
        switch (header.Op)
        {
            case VsockOp.CreditUpdate:
                return account.Packets > 0; // the next packet taken carries this credit
            case VsockOp.CreditRequest:
                return account.CreditRequestQueued;
            case VsockOp.Rw when header.Type == VsockType.Stream && account.Last is { Header.Op: VsockOp.Rw, Payload: { } array } last
                && array.Length - last.Header.Len >= header.Len && account.Bytes + header.Len <= ConnectionBytes:
                payload.Read(array.AsSpan((int)last.Header.Len, (int)header.Len));
                last.Header.Len += header.Len;
                account.Bytes += header.Len;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Queues an RST for this guest (if the connection may have one more) and reports the reset.</summary>
    private PostResult ResetLocked(Key key, Account? account, in VsockHeader header)
    {
        if (account is null && _accounts.Count >= 2 * MaxConnections)
        {
            return PostResult.Reset; // a flood of new connections: this guest knows none of them, or has its RST queued already
        }
        account ??= AddAccount(key, header);
        var reset = VsockHeader.Create(header.SrcCid, header.SrcPort, header.DstCid, header.DstPort, header.Type, VsockOp.Rst);
        var packet = new SiblingPacket(reset, null);
        bool signal = Enqueue(account, packet);
        account.Reset = packet;
        if (signal)
        {
            _signal.Signal();
        }
        return PostResult.Reset;
    }

    private Account AddAccount(Key key, in VsockHeader header)
    {
        var account = new Account(header.BufAlloc, header.FwdCnt);
        _accounts.Add(key, account);
        return account;
    }

    /// <summary>Appends a packet; true if the queue was empty (the taker needs a wake-up).</summary>
    private bool Enqueue(Account account, SiblingPacket packet)
    {
        bool wasEmpty = _packets.Count == 0;
        _packets.Enqueue(packet);
        account.Packets++;
        account.Bytes += packet.Header.Len;
        account.Last = packet;
        return wasEmpty;
    }

    /// <summary>The payload in a pooled array; stream data gets room for more to be appended.</summary>
    private byte[]? CopyPayload(in VsockHeader header, ref ChainReader payload)
    {
        if (header.Len == 0)
        {
            return null;
        }
        int room = header.Type == VsockType.Stream ? (int)Math.Min(GatherBytes, ConnectionBytes) : 0;
        var array = ArrayPool<byte>.Shared.Rent(Math.Max((int)header.Len, room));
        payload.Read(array.AsSpan(0, (int)header.Len));
        return array;
    }
}
