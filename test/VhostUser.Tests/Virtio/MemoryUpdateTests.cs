// MemoryUpdateTests.cs — a running queue across memory-table changes (design README 1.5): the
// back end swaps in a new GuestMemory with UpdateMemory; buffers in a hot-added region become
// usable, and a table that no longer holds the ring is refused.
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class MemoryUpdateTests
{
    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void UpdateMemory_HotAddedRegion_BufferThereIsRefusedBeforeAndAcceptedAfter(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        var region = h.Memory.AddRegion(0x4000_0000, 0x10000);
        var buffer = SharedGuestMemory.Allocate(region, 16);
        h.Memory.Write(buffer, "hot-added region"u8);
        h.Driver.Offer(DriverBuffer.At(buffer, 16, false));

        var ex = Assert.Throws<VirtqueueException>(() => h.Device.TryPop(out _));
        Assert.Equal(VirtqueueError.DescriptorNotMapped, ex.Error);

        h.Device.UpdateMemory(h.Backend.Add(h.Memory.MapForBackend(region)));
        var chain = h.Pop(); // the refused chain was not consumed: it pops now
        Assert.Equal("hot-added region"u8.ToArray(), ChainData.ReadAll(chain));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void UpdateMemory_RingMovedToNewMappingOfSameRegion_KeepsWorking(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        h.Driver.Offer(DriverBuffer.Readable(new byte[] { 1 }), DriverBuffer.Writable(1));
        var held = h.Pop();

        h.Device.UpdateMemory(h.Memory.CreateBackendMemory()); // SET_MEM_TABLE with the same layout
        h.Device.AddUsed(held, 1);
        h.Driver.Offer(DriverBuffer.Readable(new byte[] { 2 }));

        Assert.Equal(new byte[] { 2 }, ChainData.ReadAll(h.Pop()));
        Assert.Equal(held.Id, (ushort)h.TakeUsed().Id);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void UpdateMemory_TableWithoutTheRing_ThrowsRingNotMapped(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        var ringRegion = h.Backend.Regions[0];
        var without = h.Backend.Remove(ringRegion.GuestPhysicalAddress, ringRegion.Size, ringRegion.UserAddress, out _);

        var ex = Assert.Throws<VirtqueueException>(() => h.Device.UpdateMemory(without));
        Assert.Equal(VirtqueueError.RingNotMapped, ex.Error);
    }

    [Fact]
    public void UpdateMemory_StoppedQueue_TakesTheMemoryForTheNextStart()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Device.Stop();
        var fresh = h.Memory.CreateBackendMemory();

        h.Device.UpdateMemory(fresh);

        Assert.Same(fresh, h.Device.Memory);
        Assert.False(h.Device.IsStarted);
        var ex = Assert.Throws<VirtqueueException>(() => h.Device.TryPop(out _));
        Assert.Equal(VirtqueueError.NotReady, ex.Error);
    }
}
