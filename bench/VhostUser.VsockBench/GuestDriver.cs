// GuestDriver.cs — the guest side of one vsock device, shaped like Linux's virtio_transport: the
// rx ring (queue 0) full of one-descriptor buffers, tx packets (queue 1) as a header descriptor
// plus a payload descriptor, both rings of QEMU's size (128), EVENT_IDX, a kick only when the
// device asks for one, and sleeping on the call eventfds with interrupts re-enabled first. Every
// rx payload is copied out (the guest kernel's copy to its application) and every tx payload is
// copied in, so the bench pays the guest's copies too. Buffers sit at fixed guest addresses.
using System.Runtime.InteropServices;
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.VsockBench;

internal sealed class GuestDriver : IDisposable
{
    public const int QueueSize = 128;
    public const int MaxTxPayload = 64 * 1024; // VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
    private const ulong Features = (ulong)(VirtioFeatures.Version1 | VirtioFeatures.EventIdx);

    private readonly VhostUserFrontend _frontend;
    private readonly SharedGuestMemory _memory;
    private readonly DriverQueue _rx;
    private readonly DriverQueue _tx;
    private readonly EventFd _rxKick = EventFd.Create(), _rxCall = EventFd.Create(), _txKick = EventFd.Create(), _txCall = EventFd.Create();
    private readonly Epoll _epoll = Epoll.Create();
    private readonly GuestAddress[] _rxBuffers = new GuestAddress[QueueSize];
    private readonly GuestAddress[] _txBuffers = new GuestAddress[QueueSize];
    private readonly int[] _slotOfRxId = new int[QueueSize];
    private readonly int[] _slotOfTxId = new int[QueueSize];
    private readonly Stack<int> _freeTx = new();
    private readonly byte[] _rxScratch;
    private readonly int _rxBufferSize;
    private UsedElement? _stashedRx;

    public GuestDriver(string socketPath, int rxPayload)
    {
        _rxBufferSize = Packet.Size + rxPayload;
        _rxScratch = new byte[_rxBufferSize];
        _frontend = VhostUserFrontend.Connect(socketPath, TimeSpan.FromSeconds(10));
        var negotiated = _frontend.Negotiate();
        var features = negotiated.Features & ((VirtioFeatures)Features | VirtioFeatures.ProtocolFeatures);
        _frontend.SetFeatures(features);
        _memory = SharedGuestMemory.Create(64UL << 20);
        _frontend.SetMemTable(_memory);
        var ringFeatures = features & ~VirtioFeatures.ProtocolFeatures;
        _rx = DriverQueue.Create(_memory, QueueSize, ringFeatures);
        _tx = DriverQueue.Create(_memory, QueueSize, ringFeatures);
        for (int i = 0; i < QueueSize; i++)
        {
            _rxBuffers[i] = _memory.Allocate((ulong)_rxBufferSize, 64);
            _txBuffers[i] = _memory.Allocate(Packet.Size + MaxTxPayload, 64);
            _freeTx.Push(i);
        }
        _frontend.StartQueue(0, _rx, _rxKick, _rxCall);
        _frontend.StartQueue(1, _tx, _txKick, _txCall);
        _epoll.Add(_rxCall.Descriptor, EpollEvents.In, 0);
        _epoll.Add(_txCall.Descriptor, EpollEvents.In, 1);
        for (int slot = 0; slot < QueueSize; slot++)
        {
            OfferRx(slot);
        }
        _rxKick.Signal();
    }

    /// <summary>Guest CID (the daemon's default).</summary>
    public ulong Cid => 3;

    /// <summary>
    /// Takes the next rx packet: its header, and its payload copied into a scratch buffer that
    /// stays valid until the next call. The buffer goes straight back to the device.
    /// </summary>
    public bool TryReceive(out Packet header, out ReadOnlySpan<byte> payload)
    {
        if (_stashedRx is { } stashed)
        {
            _stashedRx = null;
            return Take(stashed, out header, out payload);
        }
        if (_rx.TryTakeUsed(out var used))
        {
            return Take(used, out header, out payload);
        }
        header = default;
        payload = default;
        return false;
    }

    /// <summary>Sends one packet (header descriptor + payload descriptor); false if the tx ring is full.</summary>
    public bool TrySend(in Packet header, ReadOnlySpan<byte> payload)
    {
        ReclaimTx();
        if (!_freeTx.TryPop(out int slot))
        {
            return false;
        }
        var address = _txBuffers[slot];
        _memory.Write(address, in header);
        ushort id;
        if (payload.IsEmpty)
        {
            id = _tx.Offer(DriverBuffer.At(address, Packet.Size, false));
        }
        else
        {
            var data = new GuestAddress(address.Value + Packet.Size);
            _memory.Write(data, payload);
            id = _tx.Offer(DriverBuffer.At(address, Packet.Size, false), DriverBuffer.At(data, (uint)payload.Length, false));
        }
        _slotOfTxId[id] = slot;
        if (_tx.NeedsKick())
        {
            _txKick.Signal();
        }
        return true;
    }

    /// <summary>Sleeps until the device uses an rx or tx buffer (or <paramref name="milliseconds"/> pass).</summary>
    public void Wait(int milliseconds)
    {
        // As a driver does before sleeping: ask for interrupts, then look once more, since the
        // device may have used a buffer before it saw the request. The fence orders the
        // used_event stores before the used index loads (the driver-side mb() of the spec).
        _rx.EnableInterrupts();
        _tx.EnableInterrupts();
        Interlocked.MemoryBarrier();
        if (_rx.TryTakeUsed(out var used))
        {
            _stashedRx = used;
            return;
        }
        if (_freeTx.Count == 0 && ReclaimTx())
        {
            return;
        }
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        if (_epoll.Wait(events, milliseconds) > 0)
        {
            _rxCall.Drain();
            _txCall.Drain();
        }
    }

    public void Dispose()
    {
        _frontend.Dispose();
        _epoll.Dispose();
        _memory.Dispose();
        foreach (var fd in (EventFd[])[_rxKick, _rxCall, _txKick, _txCall])
        {
            fd.Dispose();
        }
    }

    private bool Take(UsedElement used, out Packet header, out ReadOnlySpan<byte> payload)
    {
        int slot = _slotOfRxId[used.Id];
        int length = (int)Math.Min(used.Length, (uint)_rxBufferSize);
        _memory.Read(_rxBuffers[slot], _rxScratch.AsSpan(0, length));
        OfferRx(slot);
        if (_rx.NeedsKick())
        {
            _rxKick.Signal();
        }
        header = MemoryMarshal.Read<Packet>(_rxScratch);
        payload = _rxScratch.AsSpan(Packet.Size, (int)Math.Min(header.Len, (uint)(length - Packet.Size)));
        return true;
    }

    private void OfferRx(int slot) => _slotOfRxId[_rx.Offer(DriverBuffer.At(_rxBuffers[slot], (uint)_rxBufferSize, true))] = slot;

    private bool ReclaimTx()
    {
        bool any = false;
        while (_tx.TryTakeUsed(out var used))
        {
            _freeTx.Push(_slotOfTxId[used.Id]);
            any = true;
        }
        return any;
    }
}
