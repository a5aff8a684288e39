// Virtqueue.cs — the device side of one virtqueue, split or packed: configuration, the ring
// base exchanged with GET/SET_VRING_BASE, and the public operations a queue worker uses.
// Ring-specific code lives in Virtqueue.Split.cs and Virtqueue.Packed.cs; the storage of popped
// chains in Virtqueue.Chains.cs.
//
// Threading: a Virtqueue is used by exactly one thread at a time — its queue worker while the
// ring runs, the control thread while the worker is paused (design README 1.5). Nothing here
// locks.
using System.Runtime.InteropServices;
using VhostUser.Memory;

namespace VhostUser.Virtio;

/// <summary>Device-side state of one virtqueue.</summary>
public sealed partial class Virtqueue
{
    private GuestMemory _memory = GuestMemory.Empty;
    private VirtqueueLayout _layout;
    private RingArea _descriptors;
    private RingArea _driverArea;
    private RingArea _deviceArea;
    private bool _packed;
    private bool _eventIdx;
    private bool _indirect;
    private bool _notifyOnEmpty;
    private bool _started;

    // Position state. Split: _nextAvail is last_avail_idx, _nextUsed is used->idx (both free running).
    // Packed: both are ring slots (0..size-1) with their wrap counters.
    private ushort _nextAvail;
    private ushort _nextUsed;
    private bool _availWrap = true;
    private bool _usedWrap = true;
    private ushort _signalledUsed;    // split: used.idx at the last notification decision
    private int _usedSinceSignal;     // packed: ring slots used since the last decision
    private bool _signalledUsedValid;
    private uint _incarnation;        // bumped at every start and stop: chains carry the value they were popped under

    /// <summary>Creates the queue with its index within the device.</summary>
    public Virtqueue(int index) => Index = index;

    /// <summary>Index of the queue within its device.</summary>
    public int Index { get; }

    /// <summary>Queue size (number of descriptors).</summary>
    public int Size => _layout.Size;

    /// <summary>True for the packed layout.</summary>
    public bool IsPacked => _packed;

    /// <summary>True if EVENT_IDX is in use.</summary>
    public bool EventIdx => _eventIdx;

    /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public bool IsStarted => _started;

    /// <summary>The memory map the queue currently uses.</summary>
    public GuestMemory Memory => _memory;

    /// <summary>Changes at every start and stop of the ring; a popped chain records it (<see cref="IsCurrent"/>).</summary>
    public uint Incarnation => _incarnation;

    /// <summary>The ring layout given to <see cref="Configure"/>.</summary>
    public VirtqueueLayout Layout => _layout;

    /// <summary>
    /// If true (the default), a device-readable descriptor after a device-writable one is an
    /// error (the spec's driver requirement; QEMU and libvhost-user enforce it too).
    /// </summary>
    public bool RequireReadableFirst { get; set; } = true;

    /// <summary>Sets the ring layout and the negotiated features that shape ring handling.</summary>
    public void Configure(VirtqueueLayout layout, VirtioFeatures features)
    {
        _packed = (features & VirtioFeatures.RingPacked) != 0;
        bool validSize = _packed ? PackedRing.IsValidSize(layout.Size) : SplitRing.IsValidSize(layout.Size);
        if (!validSize)
        {
            throw new VirtqueueException(VirtqueueError.InvalidQueueSize,
                $"queue {Index}: size {layout.Size} is not valid for a {(_packed ? "packed" : "split")} ring");
        }
        _layout = layout;
        _eventIdx = (features & VirtioFeatures.EventIdx) != 0;
        _indirect = (features & VirtioFeatures.IndirectDesc) != 0;
        _notifyOnEmpty = (features & VirtioFeatures.NotifyOnEmpty) != 0;
        EnsureChainStorage(layout.Size);
    }

    /// <summary>
    /// Sets the position from SET_VRING_BASE (vhost-user-protocol.md §3): split: bits 0–15 the
    /// next avail index; packed: bits 0–14 next avail slot, 15 its wrap counter, 16–30 next used
    /// slot, 31 its wrap counter.
    /// </summary>
    public void SetBase(uint value)
    {
        if (_packed)
        {
            _nextAvail = (ushort)(value & 0x7FFF);
            _availWrap = (value & 0x8000) != 0;
            _nextUsed = (ushort)((value >> 16) & 0x7FFF);
            _usedWrap = (value & 0x8000_0000) != 0;
            if (_nextAvail >= Size || _nextUsed >= Size)
            {
                throw new VirtqueueException(VirtqueueError.AvailIndexOutOfRange,
                    $"queue {Index}: packed base 0x{value:x} is outside the {Size}-entry ring");
            }
        }
        else
        {
            _nextAvail = (ushort)value;
        }
    }

    /// <summary>The position for GET_VRING_BASE, in the encoding of <see cref="SetBase"/>.</summary>
    public uint GetBase() => _packed
        ? _nextAvail | (_availWrap ? 0x8000u : 0) | ((uint)_nextUsed << 16) | (_usedWrap ? 0x8000_0000u : 0)
        : _nextAvail;

    /// <summary>
    /// Resolves the ring areas in <paramref name="memory"/> and starts the queue. Split rings
    /// take their used index from the guest's used ring (QEMU does not send it).
    /// </summary>
    public void Start(GuestMemory memory)
    {
        ResolveAreas(memory);
        if (!_packed)
        {
            _nextUsed = ReadUInt16(_deviceArea.Span, SplitRing.UsedIndexOffset);
        }
        _signalledUsedValid = false;
        _usedSinceSignal = 0;
        _incarnation++;
        ResetChains();
        RecoverInflight();
        _started = true;
    }

    /// <summary>Re-resolves the ring areas after a memory-table change (workers paused).</summary>
    public void UpdateMemory(GuestMemory memory)
    {
        if (_started)
        {
            ResolveAreas(memory);
        }
        else
        {
            _memory = memory;
        }
    }

    /// <summary>
    /// Stops using the ring. Chains still in flight are forgotten (an inflight region keeps its
    /// record of them) and the inflight region is detached.
    /// </summary>
    public void Stop()
    {
        _started = false;
        _incarnation++; // chains still held from now on belong to a ring that is gone
        _inflight = null;
        _resubmitCount = 0;
        _resubmitNext = 0;
        _descriptors = default;
        _driverArea = default;
        _deviceArea = default;
    }

    /// <summary>Returns the queue to its initial state (device reset).</summary>
    public void Reset()
    {
        Stop();
        _layout = default;
        _nextAvail = 0;
        _nextUsed = 0;
        _availWrap = true;
        _usedWrap = true;
        _signalledUsedValid = false;
        _inFlightCount = 0;
    }

    /// <summary>
    /// Takes the next available chain. Returns false when the ring is empty. Throws
    /// <see cref="VirtqueueException"/> for a malformed ring or chain (the queue is then broken).
    /// </summary>
    public bool TryPop(out DescriptorChain chain)
    {
        EnsureStarted();
        if (_resubmitNext < _resubmitCount)
        {
            chain = PopResubmitted();
            return true;
        }
        return _packed ? TryPopPacked(out chain) : TryPopSplit(out chain);
    }

    /// <summary>True if the driver has made a buffer available that was not popped yet.</summary>
    public bool HasAvailable()
    {
        EnsureStarted();
        return _resubmitNext < _resubmitCount || (_packed ? HasAvailablePacked() : HasAvailableSplit());
    }

    /// <summary>
    /// Returns a chain to the driver with <paramref name="bytesWritten"/> bytes written into its
    /// device-writable buffers (never more than it has).
    /// </summary>
    public void AddUsed(in DescriptorChain chain, uint bytesWritten)
    {
        EnsureStarted();
        ReleaseChain(chain);
        uint length = Math.Min(bytesWritten, chain.WritableLength);
        if (_packed)
        {
            AddUsedPacked(chain, length);
        }
        else
        {
            AddUsedSplit(chain.Id, length);
        }
    }

    /// <summary>
    /// Asks the driver for kicks again, then re-checks the ring. Returns true if buffers arrived
    /// meanwhile, in which case the caller must process them before sleeping.
    /// </summary>
    public bool EnableNotification()
    {
        EnsureStarted();
        if (_packed)
        {
            EnableNotificationPacked();
        }
        else
        {
            EnableNotificationSplit();
        }
        // Full fence: the notification-enable store must be visible to the driver before we read
        // its index, or a buffer added in between is missed (virtio-queue: SeqCst fence here).
        Interlocked.MemoryBarrier();
        return HasAvailable();
    }

    /// <summary>Asks the driver not to kick while the device is busy (a hint).</summary>
    public void DisableNotification()
    {
        EnsureStarted();
        if (_packed)
        {
            WriteUInt16(_deviceArea.Span, PackedRing.EventFlagsOffset, PackedRing.EventFlagsDisable);
        }
        else if (!_eventIdx)
        {
            WriteUInt16(_deviceArea.Span, SplitRing.UsedFlagsOffset, SplitRing.UsedNoNotify);
        }
    }

    /// <summary>
    /// Decides whether to signal the call fd after used buffers were added (EVENT_IDX,
    /// NO_INTERRUPT, NOTIFY_ON_EMPTY; virtqueues.md §4 and §6). Updates the signalled position.
    /// </summary>
    public bool NeedsNotification()
    {
        EnsureStarted();
        // Full fence: our used-ring stores must be visible before we read the driver's
        // suppression fields (virtio-queue: SeqCst fence before needs_notification).
        Interlocked.MemoryBarrier();
        return _packed ? NeedsNotificationPacked() : NeedsNotificationSplit();
    }

    /// <summary>
    /// NOTIFY_ON_EMPTY (virtio spec, legacy reserved bit 24): with it negotiated the device must
    /// notify when it runs out of available buffers, whatever the driver's suppression (NO_INTERRUPT,
    /// used_event, the packed driver event). "Out" means nothing available and nothing in flight,
    /// as QEMU's virtio_should_notify reads it, for split and packed rings alike.
    /// </summary>
    private bool IsEmptyForNotifyOnEmpty() => _notifyOnEmpty && _inFlightCount == 0 && !HasAvailable();

    private void EnsureStarted()
    {
        if (!_started)
        {
            throw new VirtqueueException(VirtqueueError.NotReady, $"queue {Index} is not started");
        }
    }

    private void ResolveAreas(GuestMemory memory)
    {
        int size = _layout.Size;
        if (size == 0)
        {
            throw new VirtqueueException(VirtqueueError.InvalidQueueSize, $"queue {Index}: no size set");
        }
        if (_packed)
        {
            _descriptors = Resolve(memory, "descriptor ring", _layout.Descriptors, PackedRing.DescriptorRingSize(size), PackedRing.DescriptorAlignment);
            _driverArea = Resolve(memory, "driver event area", _layout.DriverArea, PackedRing.EventSize, PackedRing.EventAlignment);
            _deviceArea = Resolve(memory, "device event area", _layout.DeviceArea, PackedRing.EventSize, PackedRing.EventAlignment);
        }
        else
        {
            _descriptors = Resolve(memory, "descriptor table", _layout.Descriptors, SplitRing.DescriptorTableSize(size), SplitRing.DescriptorAlignment);
            _driverArea = Resolve(memory, "available ring", _layout.DriverArea, SplitRing.AvailRingSize(size), SplitRing.AvailAlignment);
            _deviceArea = Resolve(memory, "used ring", _layout.DeviceArea, SplitRing.UsedRingSize(size), SplitRing.UsedAlignment);
        }
        _memory = memory;
    }

    private RingArea Resolve(GuestMemory memory, string name, GuestAddress address, int length, int alignment)
    {
        if ((address.Value & (ulong)(alignment - 1)) != 0)
        {
            throw new VirtqueueException(VirtqueueError.RingMisaligned,
                $"queue {Index}: {name} at {address} is not {alignment}-byte aligned");
        }
        if (!memory.TryResolve(address, length, out var region, out ulong offset))
        {
            throw new VirtqueueException(VirtqueueError.RingNotMapped,
                $"queue {Index}: {name} [{address}, +0x{length:x}) is not inside one guest memory region");
        }
        return new RingArea(region, offset, length);
    }

    // Ring fields are naturally aligned (areas checked above, field offsets even), so these
    // Volatile accesses are single, untorn loads and stores with acquire/release ordering.
    private static ushort ReadUInt16(Span<byte> area, int offset) =>
        Volatile.Read(ref MemoryMarshal.Cast<byte, ushort>(area.Slice(offset, 2))[0]);

    private static void WriteUInt16(Span<byte> area, int offset, ushort value) =>
        Volatile.Write(ref MemoryMarshal.Cast<byte, ushort>(area.Slice(offset, 2))[0], value);

    /// <summary>A ring area resolved to a region and an offset in it.</summary>
    private readonly struct RingArea(GuestRegion region, ulong offset, int length)
    {
        public Span<byte> Span => region.Slice(offset, length);
    }
}
