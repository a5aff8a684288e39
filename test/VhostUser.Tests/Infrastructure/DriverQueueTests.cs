// DriverQueueTests.cs — the driver double writes rings as the spec says a driver must. Checked
// here field by field, independently of the device side, so a shared misreading shows up.
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Tests.Infrastructure;

public sealed class DriverQueueTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Create_Layout_AreasAlignedDisjointAndTranslatable(bool packed)
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 8, RingConfigs.Features(packed));
        var layout = queue.Layout;

        // (start, length, alignment) per area, from virtqueues.md §2 / §6.
        var areas = packed
            ? new[] { (layout.Descriptors.Value, 16UL * 8, 16UL), (layout.DriverArea.Value, 4UL, 4UL), (layout.DeviceArea.Value, 4UL, 4UL) }
            : new[] { (layout.Descriptors.Value, 16UL * 8, 16UL), (layout.DriverArea.Value, 6UL + 2 * 8, 2UL), (layout.DeviceArea.Value, 6UL + 8 * 8, 4UL) };
        foreach (var (start, length, alignment) in areas)
        {
            Assert.Equal(0UL, start % alignment);
            Assert.True(memory.View.IsRangeMapped(new GuestAddress(start), length));
        }
        for (int i = 0; i < 3; i++)
        {
            for (int j = i + 1; j < 3; j++)
            {
                Assert.True(areas[i].Item1 + areas[i].Item2 <= areas[j].Item1 || areas[j].Item1 + areas[j].Item2 <= areas[i].Item1);
            }
        }
        Assert.Equal(SharedGuestMemory.UserAddressBase + layout.DriverArea.Value, queue.UserAddresses.DriverArea);
        Assert.Equal(8, layout.Size);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 32769)]
    public void Create_InvalidSize_Throws(bool packed, int size)
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        Assert.Throws<ArgumentOutOfRangeException>(() => DriverQueue.Create(memory, size, RingConfigs.Features(packed)));
    }

    [Fact]
    public void OfferSplit_ThreeBuffers_WritesLinkedDescriptorsAndPublishesTheHead()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 8, RingConfigs.Features(packed: false), startIndex: 100);

        ushort head = queue.Offer(DriverBuffer.Readable(new byte[] { 1, 2, 3 }), DriverBuffer.Readable(new byte[5]), DriverBuffer.Writable(7));

        var d0 = queue.ReadDescriptor(head);
        var d1 = queue.ReadDescriptor(d0.Next);
        var d2 = queue.ReadDescriptor(d1.Next);
        Assert.Equal((3u, DescriptorFlags.Next), (d0.Length, d0.Flags));
        Assert.Equal((5u, DescriptorFlags.Next), (d1.Length, d1.Flags));
        Assert.Equal((7u, DescriptorFlags.Write), (d2.Length, d2.Flags));
        Assert.Equal(new byte[] { 1, 2, 3 }, ReadBytes(memory, d0.Address, 3));
        // avail.idx at offset 2, ring[100 % 8] at offset 4 + 2 * 4.
        Assert.Equal((ushort)101, memory.Read<ushort>(queue.Layout.DriverArea.Add(2)));
        Assert.Equal(head, memory.Read<ushort>(queue.Layout.DriverArea.Add(4 + 2 * (100 % 8))));
        Assert.Equal((ushort)100, queue.ReadUsedIndex());
    }

    [Fact]
    public void OfferSplitIndirect_TwoBuffers_OneTableDescriptorWithLinkedEntries()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 8, RingConfigs.Features(packed: false, indirect: true));

        ushort head = queue.OfferIndirect(DriverBuffer.Readable(new byte[4]), DriverBuffer.Writable(9));

        var d = queue.ReadDescriptor(head);
        Assert.Equal(DescriptorFlags.Indirect, d.Flags);
        Assert.Equal(32u, d.Length);
        var e0 = memory.Read<Descriptor>(new GuestAddress(d.Address));
        var e1 = memory.Read<Descriptor>(new GuestAddress(d.Address + 16));
        Assert.Equal((4u, DescriptorFlags.Next, (ushort)1), (e0.Length, e0.Flags, e0.Next));
        Assert.Equal((9u, DescriptorFlags.Write), (e1.Length, e1.Flags));
    }

    [Fact]
    public void OfferPacked_ChainAcrossTheRingEnd_UsesEachSlotsWrapBitsAndIdInTheLastDescriptor()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 3, RingConfigs.Features(packed: true));
        var device = queue.CreateVirtqueue(memory.CreateBackendMemory());
        queue.Offer(DriverBuffer.Writable(1), DriverBuffer.Writable(1)); // slots 0, 1
        Assert.True(device.TryPop(out var first));
        device.AddUsed(first, 0);
        Assert.True(queue.TryTakeUsed(out _));

        ushort id = queue.Offer(DriverBuffer.Readable(new byte[2]), DriverBuffer.Writable(3)); // slots 2, then 0 of lap 2

        var s2 = queue.ReadPackedDescriptor(2);
        var s0 = queue.ReadPackedDescriptor(0);
        Assert.Equal(DescriptorFlags.Next | DescriptorFlags.PackedAvail, s2.Flags);           // wrap 1: AVAIL=1 USED=0
        Assert.Equal(DescriptorFlags.Write | DescriptorFlags.PackedUsed, s0.Flags);           // wrap 0: AVAIL=0 USED=1
        Assert.Equal(id, s0.Id);
        Assert.False(queue.AvailWrapCounter);
        Assert.Equal(1, queue.NextAvailSlot);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Offer_RingFull_CannotOfferAndThrows(bool packed)
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 4, RingConfigs.Features(packed));
        queue.Offer(DriverBuffer.Writable(1), DriverBuffer.Writable(1), DriverBuffer.Writable(1));

        Assert.True(queue.CanOffer(1));
        Assert.False(queue.CanOffer(2));
        Assert.Throws<InvalidOperationException>(() => queue.Offer(DriverBuffer.Writable(1), DriverBuffer.Writable(1)));
        Assert.Equal(1, queue.InFlightCount);
    }

    [Fact]
    public void Offer_PlacedBuffers_AreSeparatedByPoisonedGaps()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 4, RingConfigs.Features(packed: false));
        ushort id = queue.Offer(DriverBuffer.Readable(new byte[] { 9, 9, 9 }), DriverBuffer.Writable(4));

        var segments = queue.GetOfferedSegments(id);
        Assert.True(segments[1].Address >= segments[0].Address + 3 + 8);
        Assert.Equal(DriverQueue.Poison, ReadBytes(memory, segments[0].Address + 3, 1)[0]);
        Assert.All(ReadBytes(memory, segments[1].Address, 4), b => Assert.Equal(DriverQueue.Poison, b));
    }

    [Fact]
    public void TryTakeUsed_IdNotInFlight_ThrowsDeviceBug()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var queue = DriverQueue.Create(memory, 4, RingConfigs.Features(packed: false));
        // A device that publishes a used element for a head that was never offered.
        memory.Write(queue.Layout.DeviceArea.Add(4), new UsedElement(2, 0));
        memory.Write(queue.Layout.DeviceArea.Add(2), (ushort)1);

        Assert.Throws<InvalidOperationException>(() => queue.TryTakeUsed(out _));
    }

    private static byte[] ReadBytes(SharedGuestMemory memory, ulong address, int length)
    {
        var bytes = new byte[length];
        memory.Read(new GuestAddress(address), bytes);
        return bytes;
    }
}
