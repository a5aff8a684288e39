// HostileGuestTests.cs — one row per thing a guest (or a buggy device) can do wrong with a ring,
// each asserting its VirtqueueError code (virtqueues.md §3, §5; design README 1.10): the queue
// refuses the chain rather than looping, reading out of bounds or ending the chain early.
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class HostileGuestTests
{
    private const int Size = 8;
    private const ulong MemorySize = 1 << 20;

    private static readonly Dictionary<string, Action<bool>> Scenarios = new()
    {
        ["DescriptorLoop"] = _ => SplitChain((0, DescriptorFlags.Next, 1), (1, DescriptorFlags.Next, 0)),
        ["DescriptorPointsAtItself"] = _ => SplitChain((0, DescriptorFlags.Next, 0)),
        ["HeadOutOfRange"] = _ => Split(h => h.Driver.PublishHead(Size)),
        ["NextOutOfRange"] = _ => SplitChain((0, DescriptorFlags.Next, Size)),
        ["AvailIndexMoreThanSizeAhead"] = _ => Split(h => h.Driver.SetAvailIndex(Size + 1)),
        ["AvailIndexMovedBackwards"] = _ => Split(h => h.Driver.SetAvailIndex(ushort.MaxValue)),
        ["IndirectInsideIndirect"] = packed => IndirectTable(packed, [Entry(DescriptorFlags.Indirect)]),
        ["IndirectNotNegotiated"] = packed => Pop(packed, indirect: false, h => OfferRaw(h, packed, Buffer(h), 16, DescriptorFlags.Indirect)),
        ["IndirectWithNext"] = packed => Pop(packed, indirect: true, h => OfferRaw(h, packed, h.Driver.WriteTable([Entry(DescriptorFlags.None)]).Value, 16, DescriptorFlags.Indirect | DescriptorFlags.Next)),
        ["IndirectLengthZero"] = packed => Pop(packed, indirect: true, h => OfferRaw(h, packed, Buffer(h), 0, DescriptorFlags.Indirect)),
        ["IndirectLengthNotMultipleOf16"] = packed => Pop(packed, indirect: true, h => OfferRaw(h, packed, Buffer(h), 24, DescriptorFlags.Indirect)),
        ["IndirectTableOutsideMemory"] = packed => Pop(packed, indirect: true, h => OfferRaw(h, packed, 0x4000_0000, 32, DescriptorFlags.Indirect)),
        ["IndirectTableLoop"] = _ => IndirectTable(false, [Entry(DescriptorFlags.Next, next: 1), Entry(DescriptorFlags.Next, next: 0)]),
        ["IndirectNextOutOfRange"] = _ => IndirectTable(false, [Entry(DescriptorFlags.Next, next: 1), Entry(DescriptorFlags.Next, next: 2)]),
        ["PackedChainLongerThanRing"] = _ => Pop(true, indirect: false, h =>
        {
            for (int slot = Size - 1; slot >= 0; slot--)
            {
                h.Driver.WritePackedDescriptor(slot, new PackedDescriptor(Buffer(h), 1, 0, DescriptorFlags.Next | DriverQueue.AvailableFlags(true)));
            }
        }),
        ["MoreBuffersThanMaxChainSegments"] = packed => IndirectTable(packed, Enumerable.Range(0, Virtqueue.MaxChainSegments + 1)
            .Select(i => Entry(DescriptorFlags.Next, next: (ushort)(i + 1))).ToArray()),
        ["BufferCrossesEndOfMemory"] = packed => Pop(packed, indirect: false, h => h.Driver.Offer(DriverBuffer.At(new GuestAddress(MemorySize - 8), 16, false))),
        ["BufferOutsideMemory"] = packed => Pop(packed, indirect: false, h => h.Driver.Offer(DriverBuffer.At(new GuestAddress(0x4000_0000), 16, true))),
        ["BufferWrapsPast2Pow64"] = packed => Pop(packed, indirect: false, h => h.Driver.Offer(DriverBuffer.At(new GuestAddress(ulong.MaxValue - 3), 16, false))),
        ["TotalLengthOver32Bits"] = packed => Pop(packed, indirect: false, h => h.Driver.Offer(
            DriverBuffer.At(new GuestAddress(Buffer(h)), 16, false), DriverBuffer.At(new GuestAddress(Buffer(h)), uint.MaxValue - 8, false))),
        ["ReadableAfterWritable"] = packed => Pop(packed, indirect: false, h => h.Driver.Offer(DriverBuffer.Writable(4), DriverBuffer.Readable(new byte[4]))),
        ["PackedBufferIdOutOfRange"] = _ => Pop(true, indirect: false, h =>
            h.Driver.WritePackedDescriptor(0, new PackedDescriptor(Buffer(h), 1, Size, DriverQueue.AvailableFlags(true)))),
        ["HeadMadeAvailableTwice"] = _ => Split(h =>
        {
            ushort head = h.Driver.Offer(DriverBuffer.Writable(1));
            h.Pop();
            h.Driver.PublishHead(head);
        }),
        ["PackedIdMadeAvailableTwice"] = _ => Pop(true, indirect: false, h =>
        {
            ushort id = h.Driver.Offer(DriverBuffer.Writable(1));
            h.Pop();
            h.Driver.WritePackedDescriptor(1, new PackedDescriptor(Buffer(h), 1, id, DriverQueue.AvailableFlags(true)));
        }),
        ["ChainCompletedTwice"] = packed =>
        {
            using var h = QueueHarness.Create(packed, size: Size);
            h.Driver.Offer(DriverBuffer.Writable(1));
            var chain = h.Pop();
            h.Device.AddUsed(chain, 0);
            h.Device.AddUsed(chain, 0);
        },
        ["ChainCompletedOnAnotherQueue"] = packed =>
        {
            using var h = QueueHarness.Create(packed, size: Size);
            var other = DriverQueue.Create(h.Memory, Size, h.Driver.Features).CreateVirtqueue(h.Backend, index: 1);
            h.Driver.Offer(DriverBuffer.Writable(1));
            other.AddUsed(h.Pop(), 0);
        },
        ["DescriptorAreaMisaligned"] = packed => Start(packed, l => l with { Descriptors = l.Descriptors.Add(8) }),
        ["SplitAvailRingMisaligned"] = _ => Start(false, l => l with { DriverArea = l.DriverArea.Add(1) }),
        ["SplitUsedRingMisaligned"] = _ => Start(false, l => l with { DeviceArea = l.DeviceArea.Add(2) }),
        ["PackedEventAreaMisaligned"] = _ => Start(true, l => l with { DeviceArea = l.DeviceArea.Add(2) }),
        ["DescriptorAreaNotMapped"] = packed => Start(packed, l => l with { Descriptors = new GuestAddress(0x4000_0000) }),
        // Split: the 70-byte used ring starts 16 bytes before the end; packed: the aligned
        // 4-byte event area cannot straddle the end, so it starts right at it.
        ["DeviceAreaPastEndOfMemory"] = packed => Start(packed, l => l with { DeviceArea = new GuestAddress(packed ? MemorySize : MemorySize - 16) }),
        ["QueueSizeZero"] = packed => Configure(packed, 0),
        ["SplitQueueSizeNotPowerOfTwo"] = _ => Configure(false, 6),
        ["QueueSizeAbove32768"] = packed => Configure(packed, packed ? 32769 : 65536),
        ["PopBeforeStart"] = packed =>
        {
            var queue = new Virtqueue(0);
            queue.Configure(new VirtqueueLayout(Size, default, default, default), RingConfigs.Features(packed));
            queue.TryPop(out _);
        },
        ["InflightRegionSmallerThanRing"] = packed =>
        {
            using var h = QueueHarness.Create(packed, size: Size, memorySize: MemorySize);
            using var area = VhostUser.Unix.MemFd.Create("inflight", InflightLayout.AreaSize(1, Size / 2));
            using var mapping = VhostUser.Unix.MappedRegion.Map(area, (ulong)InflightLayout.AreaSize(1, Size / 2));
            var queue = new Virtqueue(0);
            queue.Configure(h.Driver.Layout, h.Driver.Features);
            queue.SetBase(h.Driver.InitialBase);
            queue.AttachInflight(new InflightQueue(mapping, 0, Size / 2));
            queue.Start(h.Backend);
        },
    };

    public static TheoryData<string, bool, VirtqueueError> Cases => new()
    {
        { "DescriptorLoop", false, VirtqueueError.ChainTooLong },
        { "DescriptorPointsAtItself", false, VirtqueueError.ChainTooLong },
        { "HeadOutOfRange", false, VirtqueueError.HeadOutOfRange },
        { "NextOutOfRange", false, VirtqueueError.NextOutOfRange },
        { "AvailIndexMoreThanSizeAhead", false, VirtqueueError.AvailIndexOutOfRange },
        { "AvailIndexMovedBackwards", false, VirtqueueError.AvailIndexOutOfRange },
        { "IndirectInsideIndirect", false, VirtqueueError.NestedIndirect },
        { "IndirectInsideIndirect", true, VirtqueueError.NestedIndirect },
        { "IndirectNotNegotiated", false, VirtqueueError.IndirectNotNegotiated },
        { "IndirectNotNegotiated", true, VirtqueueError.IndirectNotNegotiated },
        { "IndirectWithNext", false, VirtqueueError.IndirectWithNext },
        { "IndirectWithNext", true, VirtqueueError.IndirectWithNext },
        { "IndirectLengthZero", false, VirtqueueError.InvalidIndirectLength },
        { "IndirectLengthZero", true, VirtqueueError.InvalidIndirectLength },
        { "IndirectLengthNotMultipleOf16", false, VirtqueueError.InvalidIndirectLength },
        { "IndirectLengthNotMultipleOf16", true, VirtqueueError.InvalidIndirectLength },
        { "IndirectTableOutsideMemory", false, VirtqueueError.DescriptorNotMapped },
        { "IndirectTableOutsideMemory", true, VirtqueueError.DescriptorNotMapped },
        { "IndirectTableLoop", false, VirtqueueError.ChainTooLong },
        { "IndirectNextOutOfRange", false, VirtqueueError.NextOutOfRange },
        { "PackedChainLongerThanRing", true, VirtqueueError.ChainTooLong },
        { "MoreBuffersThanMaxChainSegments", false, VirtqueueError.ChainTooLong },
        { "MoreBuffersThanMaxChainSegments", true, VirtqueueError.ChainTooLong },
        { "BufferCrossesEndOfMemory", false, VirtqueueError.DescriptorNotMapped },
        { "BufferCrossesEndOfMemory", true, VirtqueueError.DescriptorNotMapped },
        { "BufferOutsideMemory", false, VirtqueueError.DescriptorNotMapped },
        { "BufferOutsideMemory", true, VirtqueueError.DescriptorNotMapped },
        { "BufferWrapsPast2Pow64", false, VirtqueueError.DescriptorNotMapped },
        { "BufferWrapsPast2Pow64", true, VirtqueueError.DescriptorNotMapped },
        { "TotalLengthOver32Bits", false, VirtqueueError.ChainTooLarge },
        { "TotalLengthOver32Bits", true, VirtqueueError.ChainTooLarge },
        { "ReadableAfterWritable", false, VirtqueueError.ReadableAfterWritable },
        { "ReadableAfterWritable", true, VirtqueueError.ReadableAfterWritable },
        { "PackedBufferIdOutOfRange", true, VirtqueueError.InvalidBufferId },
        { "HeadMadeAvailableTwice", false, VirtqueueError.DuplicateBufferId },
        { "PackedIdMadeAvailableTwice", true, VirtqueueError.DuplicateBufferId },
        { "ChainCompletedTwice", false, VirtqueueError.ChainNotInFlight },
        { "ChainCompletedTwice", true, VirtqueueError.ChainNotInFlight },
        { "ChainCompletedOnAnotherQueue", false, VirtqueueError.ChainNotInFlight },
        { "ChainCompletedOnAnotherQueue", true, VirtqueueError.ChainNotInFlight },
        { "DescriptorAreaMisaligned", false, VirtqueueError.RingMisaligned },
        { "DescriptorAreaMisaligned", true, VirtqueueError.RingMisaligned },
        { "SplitAvailRingMisaligned", false, VirtqueueError.RingMisaligned },
        { "SplitUsedRingMisaligned", false, VirtqueueError.RingMisaligned },
        { "PackedEventAreaMisaligned", true, VirtqueueError.RingMisaligned },
        { "DescriptorAreaNotMapped", false, VirtqueueError.RingNotMapped },
        { "DescriptorAreaNotMapped", true, VirtqueueError.RingNotMapped },
        { "DeviceAreaPastEndOfMemory", false, VirtqueueError.RingNotMapped },
        { "DeviceAreaPastEndOfMemory", true, VirtqueueError.RingNotMapped },
        { "QueueSizeZero", false, VirtqueueError.InvalidQueueSize },
        { "QueueSizeZero", true, VirtqueueError.InvalidQueueSize },
        { "SplitQueueSizeNotPowerOfTwo", false, VirtqueueError.InvalidQueueSize },
        { "QueueSizeAbove32768", false, VirtqueueError.InvalidQueueSize },
        { "QueueSizeAbove32768", true, VirtqueueError.InvalidQueueSize },
        { "PopBeforeStart", false, VirtqueueError.NotReady },
        { "PopBeforeStart", true, VirtqueueError.NotReady },
        { "InflightRegionSmallerThanRing", false, VirtqueueError.InvalidInflightArea },
        { "InflightRegionSmallerThanRing", true, VirtqueueError.InvalidInflightArea },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scenario_HostileRing_ThrowsItsVirtqueueError(string scenario, bool packed, VirtqueueError expected)
    {
        var ex = Assert.Throws<VirtqueueException>(() => Scenarios[scenario](packed));
        Assert.Equal(expected, ex.Error);
    }

    [Fact]
    public void Cases_EveryVirtqueueError_HasAtLeastOneRow()
    {
        var covered = Cases.Select(row => (VirtqueueError)row[2]).ToHashSet();
        var missing = Enum.GetValues<VirtqueueError>().Where(e => !covered.Contains(e)).ToList();
        Assert.True(missing.Count == 0, $"no hostile-guest row for {string.Join(", ", missing)}");
        var unused = Scenarios.Keys.Where(k => !Cases.Any(row => (string)row[0] == k)).ToList();
        Assert.True(unused.Count == 0, $"scenarios without a row: {string.Join(", ", unused)}");
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void TryPop_ReadableAfterWritableWithRequireReadableFirstOff_IsAccepted(bool packed)
    {
        using var h = QueueHarness.Create(packed, size: Size);
        h.Device.RequireReadableFirst = false;
        h.Driver.Offer(DriverBuffer.Writable(4), DriverBuffer.Readable(new byte[] { 1, 2, 3 }));

        var chain = h.Pop();

        Assert.Equal((3u, 4u), (chain.ReadableLength, chain.WritableLength));
        Assert.Equal(new byte[] { 1, 2, 3 }, ChainData.ReadAll(chain));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void TryPop_BrokenQueue_DoesNotDisturbASecondQueueOnTheSameMemory(bool packed)
    {
        using var h = QueueHarness.Create(packed, size: Size);
        var healthyDriver = DriverQueue.Create(h.Memory, Size, h.Driver.Features);
        var healthy = healthyDriver.CreateVirtqueue(h.Backend, index: 1);
        h.Driver.Offer(DriverBuffer.At(new GuestAddress(0x4000_0000), 16, false));

        Assert.Throws<VirtqueueException>(() => h.Device.TryPop(out _));
        Assert.Throws<VirtqueueException>(() => h.Device.TryPop(out _)); // stays broken, no partial state

        for (int i = 0; i < 2 * Size; i++)
        {
            ushort id = healthyDriver.Offer(DriverBuffer.Readable(new[] { (byte)i }), DriverBuffer.Writable(1));
            Assert.True(healthy.TryPop(out var chain));
            Assert.Equal(new[] { (byte)i }, ChainData.ReadAll(chain));
            healthy.AddUsed(chain, 1);
            Assert.True(healthyDriver.TryTakeUsed(out var used));
            Assert.Equal(id, (ushort)used.Id);
        }
        Assert.Equal(0, h.Device.InFlightCount);
    }

    // ---- scenario building blocks ----

    private static void Split(Action<QueueHarness> poke) => Pop(false, indirect: false, poke);

    /// <summary>A harness, a poke at the ring, then the pop that must throw.</summary>
    private static void Pop(bool packed, bool indirect, Action<QueueHarness> poke)
    {
        using var h = QueueHarness.Create(packed, indirect: indirect, size: Size, memorySize: MemorySize);
        poke(h);
        h.Device.TryPop(out _);
    }

    /// <summary>A split chain written descriptor by descriptor from index 0, head 0 published.</summary>
    private static void SplitChain(params (int Index, DescriptorFlags Flags, int Next)[] descriptors) => Split(h =>
    {
        foreach (var (index, flags, next) in descriptors)
        {
            h.Driver.WriteDescriptor(index, new Descriptor(Buffer(h), 1, flags, (ushort)next));
        }
        h.Driver.PublishHead(0);
    });

    /// <summary>One indirect descriptor at head / slot 0 pointing at <paramref name="table"/>.</summary>
    private static void IndirectTable(bool packed, Descriptor[] table) => Pop(packed, indirect: true, h =>
    {
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = table[i] with { Address = Buffer(h) };
        }
        var address = packed
            ? h.Driver.WritePackedTable(table.Select(d => new PackedDescriptor(d.Address, d.Length, 0, d.Flags & ~DescriptorFlags.Next)).ToArray())
            : h.Driver.WriteTable(table);
        OfferRaw(h, packed, address.Value, (uint)(table.Length * 16), DescriptorFlags.Indirect);
    });

    /// <summary>One raw descriptor at head / slot 0, made available.</summary>
    private static void OfferRaw(QueueHarness h, bool packed, ulong address, uint length, DescriptorFlags flags)
    {
        if (packed)
        {
            h.Driver.WritePackedDescriptor(0, new PackedDescriptor(address, length, 0, flags | DriverQueue.AvailableFlags(true)));
        }
        else
        {
            h.Driver.WriteDescriptor(0, new Descriptor(address, length, flags, flags.HasFlag(DescriptorFlags.Next) ? (ushort)1 : (ushort)0));
            h.Driver.PublishHead(0);
        }
    }

    private static Descriptor Entry(DescriptorFlags flags, ushort next = 0) => new(0, 1, flags, next);

    private static ulong Buffer(QueueHarness h) => h.Memory.Allocate(64).Value;

    /// <summary>Starts a device queue on a layout changed by <paramref name="change"/>.</summary>
    private static void Start(bool packed, Func<VirtqueueLayout, VirtqueueLayout> change)
    {
        using var h = QueueHarness.Create(packed, size: Size, memorySize: MemorySize);
        var queue = new Virtqueue(1);
        queue.Configure(change(h.Driver.Layout), h.Driver.Features);
        queue.Start(h.Backend);
    }

    private static void Configure(bool packed, int size) =>
        new Virtqueue(0).Configure(new VirtqueueLayout(size, default, default, default), RingConfigs.Features(packed));
}
