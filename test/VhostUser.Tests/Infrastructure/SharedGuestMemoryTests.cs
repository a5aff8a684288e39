// SharedGuestMemoryTests.cs — the front end's guest RAM: what it announces for SET_MEM_TABLE, that
// a back end mapping the same memfds sees the same bytes, hot add and remove, and the allocator.
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Unix;

namespace VhostUser.Tests.Infrastructure;

public sealed class SharedGuestMemoryTests
{
    [Fact]
    public void Create_OneRegion_DescribesFdGpaSizeUserAddressAndOffset()
    {
        using var memory = SharedGuestMemory.Create(0x10000);

        var region = Assert.Single(memory.Regions);
        Assert.Equal(0UL, region.GuestPhysicalAddress);
        Assert.Equal(0x10000UL, region.Size);
        Assert.Equal(SharedGuestMemory.UserAddressBase, region.UserAddress);
        Assert.Equal(0UL, region.MmapOffset);
        Assert.Equal(0x10000L, region.Descriptor.GetFileSize());
    }

    [Fact]
    public void AddRegion_WithMmapOffset_BackendMappingSeesFrontendBytesAtThatFileOffset()
    {
        using var memory = new SharedGuestMemory();
        var region = memory.AddRegion(0x100000, 0x10000, mmapOffset: 0x3000);
        memory.Write(new GuestAddress(0x100010), "front"u8);

        var backend = memory.CreateBackendMemory();
        var back = new byte[5];
        backend.Read(new GuestAddress(0x100010), back);
        Assert.Equal("front"u8.ToArray(), back);

        Assert.Equal(0x13000L, region.Descriptor.GetFileSize());
        using var file = MappedRegion.Map(region.Descriptor, 0x13000);
        Assert.Equal("front"u8.ToArray(), file.GetSpan(0x3010, 5).ToArray());
    }

    [Fact]
    public void BackendWrites_ThroughItsOwnMapping_AreSeenByTheFrontend()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var backend = memory.CreateBackendMemory();
        backend.Write(new GuestAddress(0x20), 0xDEAD_BEEFU);
        Assert.Equal(0xDEAD_BEEFU, memory.Read<uint>(new GuestAddress(0x20)));
    }

    [Fact]
    public void AddRegion_Overlapping_ThrowsRegionOverlapAndKeepsTheOldRegions()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var ex = Assert.Throws<GuestMemoryException>(() => memory.AddRegion(0x8000, 0x10000));
        Assert.Equal(GuestMemoryError.RegionOverlap, ex.Error);
        Assert.Single(memory.Regions);
        Assert.Single(memory.View.Regions);
    }

    [Fact]
    public void AddRegion_Adjacent_ViewReadsAcrossTheBoundary()
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        memory.AddRegion(0x10000, 0x10000);
        memory.Write(new GuestAddress(0xFFFC), 0x1122_3344_5566_7788UL);

        Assert.Equal(2, memory.Regions.Count);
        Assert.Equal(0x1122_3344_5566_7788UL, memory.CreateBackendMemory().Read<ulong>(new GuestAddress(0xFFFC)));
        Assert.NotEqual(memory.Regions[0].UserAddress, memory.Regions[1].UserAddress);
    }

    [Fact]
    public void RemoveRegion_HotRemove_IsGoneFromViewAndBackendAndAllocator()
    {
        using var memory = SharedGuestMemory.Create(0x1000);
        var second = memory.AddRegion(0x100000, 0x1000);
        memory.Allocate(0x1000); // fill the first region

        memory.RemoveRegion(second);
        using (second)
        {
            Assert.Single(memory.Regions);
            Assert.False(memory.View.IsRangeMapped(new GuestAddress(0x100000), 1));
            Assert.Single(memory.CreateBackendMemory().Regions);
            Assert.Throws<InvalidOperationException>(() => memory.Allocate(16));
            Assert.Throws<ArgumentException>(() => memory.RemoveRegion(second));
        }
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(16UL)]
    [InlineData(4096UL)]
    public void Allocate_Alignment_ReturnsAlignedNonOverlappingBlocks(ulong alignment)
    {
        using var memory = SharedGuestMemory.Create(0x10000);
        var first = memory.Allocate(3, alignment);
        var second = memory.Allocate(5, alignment);

        Assert.Equal(0UL, first.Value % alignment);
        Assert.Equal(0UL, second.Value % alignment);
        Assert.True(second.Value >= first.Value + 3);
    }

    [Fact]
    public void Allocate_FirstRegionFull_UsesTheNextRegion()
    {
        using var memory = SharedGuestMemory.Create(0x1000);
        memory.AddRegion(0x200000, 0x1000);

        memory.Allocate(0xF00);
        var next = memory.Allocate(0x200);

        Assert.Equal(0x200000UL, next.Value);
        Assert.Throws<InvalidOperationException>(() => memory.Allocate(0x1000));
    }

    [Fact]
    public void ToUserAddress_MappedAndUnmapped_TranslatesOrThrows()
    {
        using var memory = new SharedGuestMemory();
        memory.AddRegion(0x40000, 0x1000);
        Assert.Equal(SharedGuestMemory.UserAddressBase + 0x40123, memory.ToUserAddress(new GuestAddress(0x40123)));
        Assert.Throws<GuestMemoryException>(() => memory.ToUserAddress(new GuestAddress(0x41000)));
    }

    [Fact]
    public void Fill_AcrossRegions_FillsEveryByte()
    {
        using var memory = SharedGuestMemory.Create(0x1000);
        memory.AddRegion(0x1000, 0x1000);
        memory.Fill(new GuestAddress(0xFF0), 0x20, 0x77);

        var back = new byte[0x20];
        memory.Read(new GuestAddress(0xFF0), back);
        Assert.All(back, b => Assert.Equal(0x77, b));
    }
}
