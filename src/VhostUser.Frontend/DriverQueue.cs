// DriverQueue.cs — the driver side of one virtqueue, split or packed: the mirror of the back end's
// Virtqueue and the C# counterpart of rust-vmm virtio-queue's MockSplitQueue (design README 1.9).
// It lays the rings out in SharedGuestMemory with the core's SplitRing / PackedRing / Descriptor
// types, so both sides share one layout, offers chains, decides whether to kick, and takes used
// buffers back. Ring-specific code is in DriverQueue.Split.cs and DriverQueue.Packed.cs; raw
// pokes for hostile-guest tests in DriverQueue.Raw.cs.
//
// Buffers the queue places itself live in one block per chain id, reused when the id is offered
// again; segments are 8-byte aligned with a 16-byte poisoned gap between them, so a device that
// reads or writes past a segment end is caught rather than landing in the next one.
//
// Threading: one thread at a time. The device side may run on another thread; ring fields are
// accessed with Volatile and the fences virtio-queue uses.
using System.Runtime.InteropServices;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

/// <summary>The driver side of a split or packed virtqueue.</summary>
public sealed partial class DriverQueue
{
    /// <summary>Byte written around and into buffers the queue places, before the device sees them.</summary>
    public const byte Poison = 0xA5;

    private const ulong Gap = 16;

    private readonly SharedGuestMemory _memory;
    private readonly OfferedChain?[] _chains;
    private readonly bool[] _inFlight;
    private readonly GuestAddress[] _dataBlocks;
    private readonly ulong[] _dataCapacity;
    private readonly GuestAddress[] _tableBlocks;
    private readonly int[] _tableCapacity;
    private int _inFlightCount;

    private DriverQueue(SharedGuestMemory memory, int size, VirtioFeatures features, VirtqueueLayout layout)
    {
        _memory = memory;
        Size = size;
        Features = features;
        Layout = layout;
        UserAddresses = new RingUserAddresses(
            memory.ToUserAddress(layout.Descriptors), memory.ToUserAddress(layout.DriverArea), memory.ToUserAddress(layout.DeviceArea));
        _chains = new OfferedChain?[size];
        _inFlight = new bool[size];
        _dataBlocks = new GuestAddress[size];
        _dataCapacity = new ulong[size];
        _tableBlocks = new GuestAddress[size];
        _tableCapacity = new int[size];
    }

    /// <summary>
    /// Lays out a ring of <paramref name="size"/> entries in <paramref name="memory"/>. The layout
    /// follows <paramref name="features"/> (RING_PACKED; EVENT_IDX and INDIRECT_DESC decide what the
    /// driver may use). A split ring starts with avail.idx = used.idx = <paramref name="startIndex"/>
    /// (the device must be given the same value with SET_VRING_BASE, see <see cref="InitialBase"/>).
    /// </summary>
    public static DriverQueue Create(SharedGuestMemory memory, int size, VirtioFeatures features, ushort startIndex = 0)
    {
        bool packed = (features & VirtioFeatures.RingPacked) != 0;
        if (packed ? !PackedRing.IsValidSize(size) : !SplitRing.IsValidSize(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"not a valid {(packed ? "packed" : "split")} queue size");
        }
        if (packed && startIndex != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(startIndex), "a packed ring always starts at slot 0");
        }
        var layout = packed ? AllocatePacked(memory, size) : AllocateSplit(memory, size);
        var queue = new DriverQueue(memory, size, features, layout);
        queue.Initialize(startIndex);
        return queue;
    }

    /// <summary>Number of entries.</summary>
    public int Size { get; }

    /// <summary>The features the ring was laid out for (pass the same to the device).</summary>
    public VirtioFeatures Features { get; }

    /// <summary>True for the packed layout.</summary>
    public bool IsPacked => (Features & VirtioFeatures.RingPacked) != 0;

    /// <summary>True if EVENT_IDX is in use.</summary>
    public bool EventIdx => (Features & VirtioFeatures.EventIdx) != 0;

    /// <summary>Guest-physical addresses of the three areas (SET_VRING_ADDR with GPAs, in-process tests).</summary>
    public VirtqueueLayout Layout { get; }

    /// <summary>Front-end virtual addresses of the three areas (SET_VRING_ADDR).</summary>
    public RingUserAddresses UserAddresses { get; }

    /// <summary>The guest RAM the ring lives in.</summary>
    public SharedGuestMemory Memory => _memory;

    /// <summary>
    /// The SET_VRING_BASE value matching the ring's initial state: split: the start index;
    /// packed: slot 0 with both wrap counters 1 (vhost-user-protocol.md §3 encoding).
    /// </summary>
    public uint InitialBase { get; private set; }

    /// <summary>Chains offered and not yet taken back.</summary>
    public int InFlightCount => _inFlightCount;

    /// <summary>Offers a chain of direct descriptors; returns its id (split: head index; packed: buffer id).</summary>
    public ushort Offer(params ReadOnlySpan<DriverBuffer> buffers) => Offer(buffers, indirect: false);

    /// <summary>Offers a chain as one indirect descriptor pointing at a table of <paramref name="buffers"/>.</summary>
    public ushort OfferIndirect(params ReadOnlySpan<DriverBuffer> buffers) => Offer(buffers, indirect: true);

    /// <summary>
    /// Offers a chain: places and fills the buffers, writes the descriptors and makes the chain
    /// available. Throws <see cref="InvalidOperationException"/> if the ring has no room.
    /// </summary>
    public ushort Offer(ReadOnlySpan<DriverBuffer> buffers, bool indirect)
    {
        if (buffers.IsEmpty)
        {
            throw new ArgumentException("a chain has at least one buffer", nameof(buffers));
        }
        if (!CanOffer(buffers.Length, indirect))
        {
            throw new InvalidOperationException($"the ring has no room for a chain of {buffers.Length} buffers");
        }
        return IsPacked ? OfferPacked(buffers, indirect) : OfferSplit(buffers, indirect);
    }

    /// <summary>True if a chain of <paramref name="bufferCount"/> buffers fits now.</summary>
    public bool CanOffer(int bufferCount, bool indirect = false) =>
        IsPacked ? CanOfferPacked(indirect ? 1 : bufferCount) : CanOfferSplit(indirect ? 1 : bufferCount);

    /// <summary>
    /// Decides whether the device wants a kick for the chains offered since the last call
    /// (NO_NOTIFY or avail_event for split, the device event suppression structure for packed).
    /// </summary>
    public bool NeedsKick()
    {
        // Full fence: our avail stores must be visible before we read the device's suppression
        // fields, or a device going idle in between would miss the buffer (virtio-queue, Linux).
        Interlocked.MemoryBarrier();
        return IsPacked ? NeedsKickPacked() : NeedsKickSplit();
    }

    /// <summary>Takes the next used buffer back: its id and the length the device reported.</summary>
    public bool TryTakeUsed(out UsedElement used) => IsPacked ? TryTakeUsedPacked(out used) : TryTakeUsedSplit(out used);

    /// <summary>Asks the device for used-buffer notifications (interrupts) again.</summary>
    public void EnableInterrupts()
    {
        if (IsPacked)
        {
            EnableInterruptsPacked();
        }
        else
        {
            EnableInterruptsSplit();
        }
    }

    /// <summary>Asks the device not to send used-buffer notifications (a hint).</summary>
    public void DisableInterrupts()
    {
        if (IsPacked)
        {
            SetDriverEvent(PackedRing.EventFlagsDisable, 0);
        }
        else
        {
            DisableInterruptsSplit();
        }
    }

    /// <summary>The buffers of chain <paramref name="id"/> as offered (zero-length ones included).</summary>
    public IReadOnlyList<ChainSegment> GetOfferedSegments(ushort id) => GetChain(id).Segments;

    /// <summary>
    /// The bytes the device wrote into a used chain: the first <see cref="UsedElement.Length"/>
    /// bytes of its writable buffers. Call before offering the same id again.
    /// </summary>
    public byte[] ReadWritten(UsedElement used)
    {
        var chain = GetChain(checked((ushort)used.Id));
        var result = new byte[used.Length];
        int filled = 0;
        foreach (var segment in chain.Segments)
        {
            if (segment.Writable && filled < result.Length)
            {
                int count = (int)Math.Min(segment.Length, (uint)(result.Length - filled));
                _memory.Read(new GuestAddress(segment.Address), result.AsSpan(filled, count));
                filled += count;
            }
        }
        if (filled < result.Length)
        {
            throw new InvalidOperationException($"device reported {used.Length} bytes for chain {used.Id}, more than its {filled} writable bytes");
        }
        return result;
    }

    /// <summary>
    /// Creates the device side of this ring for in-process tests: configured with
    /// <see cref="Layout"/> and <see cref="Features"/>, based at <see cref="InitialBase"/>, started
    /// on <paramref name="memory"/> (usually <see cref="SharedGuestMemory.CreateBackendMemory"/>).
    /// </summary>
    public Virtqueue CreateVirtqueue(GuestMemory memory, int index = 0)
    {
        var queue = new Virtqueue(index);
        queue.Configure(Layout, Features);
        queue.SetBase(InitialBase);
        queue.Start(memory);
        return queue;
    }

    private void Initialize(ushort startIndex)
    {
        var layout = Layout;
        if (IsPacked)
        {
            _memory.Fill(layout.Descriptors, (ulong)PackedRing.DescriptorRingSize(Size), 0);
            _memory.Fill(layout.DriverArea, PackedRing.EventSize, 0);
            _memory.Fill(layout.DeviceArea, PackedRing.EventSize, 0);
            InitializePacked();
            InitialBase = 0x8000_8000;
        }
        else
        {
            _memory.Fill(layout.Descriptors, (ulong)SplitRing.DescriptorTableSize(Size), 0);
            _memory.Fill(layout.DriverArea, (ulong)SplitRing.AvailRingSize(Size), 0);
            _memory.Fill(layout.DeviceArea, (ulong)SplitRing.UsedRingSize(Size), 0);
            InitializeSplit(startIndex);
            InitialBase = startIndex;
        }
    }

    /// <summary>Places the buffers of chain <paramref name="id"/> and fills the readable ones.</summary>
    private ChainSegment[] PlaceBuffers(ushort id, ReadOnlySpan<DriverBuffer> buffers)
    {
        ulong needed = 0;
        foreach (var buffer in buffers)
        {
            if (buffer.Address is null)
            {
                needed = AlignUp(needed, 8) + buffer.Length + Gap;
            }
        }
        var block = DataBlock(id, needed);
        if (needed > 0)
        {
            _memory.Fill(block, needed, Poison);
        }
        var segments = new ChainSegment[buffers.Length];
        ulong offset = 0;
        for (int i = 0; i < buffers.Length; i++)
        {
            var buffer = buffers[i];
            ulong address;
            if (buffer.Address is { } fixedAddress)
            {
                address = fixedAddress.Value;
            }
            else
            {
                offset = AlignUp(offset, 8);
                address = block.Value + offset;
                offset += buffer.Length + Gap;
                _memory.Write(new GuestAddress(address), buffer.Data.Span);
            }
            segments[i] = new ChainSegment(address, buffer.Length, buffer.IsWritable);
        }
        return segments;
    }

    private GuestAddress DataBlock(ushort id, ulong needed)
    {
        if (_dataCapacity[id] < needed)
        {
            _dataBlocks[id] = _memory.Allocate(needed, 16);
            _dataCapacity[id] = needed;
        }
        return _dataBlocks[id];
    }

    /// <summary>Room for an indirect table of <paramref name="entries"/> descriptors for chain <paramref name="id"/>.</summary>
    private GuestAddress TableBlock(ushort id, int entries)
    {
        if (_tableCapacity[id] < entries)
        {
            _tableBlocks[id] = _memory.Allocate((ulong)entries * Descriptor.Size, 16);
            _tableCapacity[id] = entries;
        }
        return _tableBlocks[id];
    }

    private void Record(ushort id, ChainSegment[] segments, ushort[] descriptors, int slots)
    {
        _chains[id] = new OfferedChain(segments, descriptors, slots);
        _inFlight[id] = true;
        _inFlightCount++;
    }

    /// <summary>Marks a chain the device returned as no longer in flight; throws on a device bug.</summary>
    private OfferedChain Retire(uint id)
    {
        if (id >= (uint)Size || !_inFlight[id])
        {
            throw new InvalidOperationException($"device returned id {id}, which is not in flight");
        }
        _inFlight[id] = false;
        _inFlightCount--;
        return _chains[id]!;
    }

    private OfferedChain GetChain(ushort id) =>
        id < Size && _chains[id] is { } chain ? chain : throw new ArgumentOutOfRangeException(nameof(id), id, "no chain was offered with this id");

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    // Ring fields are naturally aligned (areas aligned, offsets even), so these are single,
    // untorn loads and stores with acquire/release ordering, as on the device side.
    private ushort ReadUInt16(GuestAddress address) =>
        Volatile.Read(ref MemoryMarshal.Cast<byte, ushort>(_memory.GetSpan(address, 2))[0]);

    private void WriteUInt16(GuestAddress address, ushort value) =>
        Volatile.Write(ref MemoryMarshal.Cast<byte, ushort>(_memory.GetSpan(address, 2))[0], value);

    /// <summary>What the driver remembers about an offered chain until the id is offered again.</summary>
    private sealed record OfferedChain(ChainSegment[] Segments, ushort[] Descriptors, int Slots);
}
