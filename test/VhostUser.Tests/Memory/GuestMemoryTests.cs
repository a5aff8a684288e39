// GuestMemoryTests.cs — lookups, bounds and region-crossing accesses of the back end's memory map.
using VhostUser.Memory;
using VhostUser.Tests.Infrastructure;

namespace VhostUser.Tests.Memory;

public sealed class GuestMemoryTests
{
    private const ulong Page = 0x1000;

    /// <summary>Two adjacent regions [0x10000, 0x12000) and [0x12000, 0x13000), then a gap.</summary>
    private static GuestMemory TwoAdjacent() => GuestMemory.Create([
        TestRegions.Anonymous(0x10000, 2 * Page),
        TestRegions.Anonymous(0x12000, Page),
    ]);

    [Fact]
    public void Create_OverlappingGuestAddresses_ThrowsRegionOverlap()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => GuestMemory.Create([
            TestRegions.Anonymous(0x10000, 2 * Page),
            TestRegions.Anonymous(0x11000, Page),
        ]));
        Assert.Equal(GuestMemoryError.RegionOverlap, ex.Error);
    }

    [Fact]
    public void Create_OverlappingUserAddresses_ThrowsRegionOverlap()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => GuestMemory.Create([
            TestRegions.Anonymous(0x10000, 2 * Page, uaddr: 0x5000_0000),
            TestRegions.Anonymous(0x90000, Page, uaddr: 0x5000_1000),
        ]));
        Assert.Equal(GuestMemoryError.RegionOverlap, ex.Error);
    }

    [Fact]
    public void Add_OverlappingRegion_ThrowsAndLeavesOriginalUnchanged()
    {
        var memory = TwoAdjacent();
        var ex = Assert.Throws<GuestMemoryException>(() => memory.Add(TestRegions.Anonymous(0x12800, Page)));
        Assert.Equal(GuestMemoryError.RegionOverlap, ex.Error);
        Assert.Equal(2, memory.Regions.Count);
    }

    [Fact]
    public void Add_NewRegion_ReturnsNewMapAndKeepsOldOne()
    {
        var memory = TwoAdjacent();
        var bigger = memory.Add(TestRegions.Anonymous(0x0, Page));

        Assert.Equal(2, memory.Regions.Count);
        Assert.Equal(3, bigger.Regions.Count);
        Assert.Equal(0x0UL, bigger.Regions[0].GuestPhysicalAddress); // kept sorted
        Assert.Equal(4 * Page, bigger.TotalSize);
        Assert.True(bigger.IsRangeMapped(new GuestAddress(0x0), 1));
        Assert.False(memory.IsRangeMapped(new GuestAddress(0x0), 1));
    }

    [Fact]
    public void Remove_MatchingGpaSizeAndUserAddress_RemovesThatRegion()
    {
        var memory = TwoAdjacent();
        var second = memory.Regions[1];

        var smaller = memory.Remove(second.GuestPhysicalAddress, second.Size, second.UserAddress, out var removed);

        Assert.Same(second, removed);
        Assert.Single(smaller.Regions);
        Assert.False(smaller.IsRangeMapped(new GuestAddress(0x12000), 1));
        Assert.True(memory.IsRangeMapped(new GuestAddress(0x12000), 1));
    }

    [Theory]
    [InlineData(0x12000, 0x2000, 0x7f00_0001_2000)] // wrong size
    [InlineData(0x12000, 0x1000, 0x7f00_0001_3000)] // wrong user address
    [InlineData(0x13000, 0x1000, 0x7f00_0001_3000)] // no region there
    public void Remove_NoExactMatch_ThrowsRegionNotFound(ulong gpa, ulong size, ulong uaddr)
    {
        var ex = Assert.Throws<GuestMemoryException>(() => TwoAdjacent().Remove(gpa, size, uaddr, out _));
        Assert.Equal(GuestMemoryError.RegionNotFound, ex.Error);
    }

    [Fact]
    public void TryGetSpan_InsideRegion_ReturnsSpanOverGuestBytes()
    {
        var memory = TwoAdjacent();
        Assert.True(memory.TryGetSpan(new GuestAddress(0x11FF0), 16, out var span));
        span.Fill(0x5A);

        var back = new byte[16];
        memory.Read(new GuestAddress(0x11FF0), back);
        Assert.All(back, b => Assert.Equal(0x5A, b));
    }

    [Theory]
    [InlineData(0x11FF0, 17)]  // runs into the adjacent region: spans never cross
    [InlineData(0x12FF0, 17)]  // runs into the gap
    [InlineData(0x13000, 1)]   // unmapped
    [InlineData(0x0FFFF, 2)]   // starts before the first region
    [InlineData(0x10000, -1)]  // negative length
    public void TryGetSpan_NotInsideOneRegion_ReturnsFalse(ulong address, int length)
    {
        Assert.False(TwoAdjacent().TryGetSpan(new GuestAddress(address), length, out _));
    }

    [Fact]
    public void GetSpan_Unmapped_ThrowsAddressNotMapped()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => TwoAdjacent().GetSpan(new GuestAddress(0x20000), 1));
        Assert.Equal(GuestMemoryError.AddressNotMapped, ex.Error);
    }

    [Fact]
    public void GetSpan_RunningPastRegionEnd_ThrowsRangeNotMapped()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => TwoAdjacent().GetSpan(new GuestAddress(0x12FF0), 32));
        Assert.Equal(GuestMemoryError.RangeNotMapped, ex.Error);
    }

    [Fact]
    public void WriteThenRead_AcrossTwoAdjacentRegions_RoundTripsAndSplitsAtTheBoundary()
    {
        var memory = TwoAdjacent();
        var data = ChainData.Pattern(64);

        memory.Write(new GuestAddress(0x12000 - 24), data);

        var back = new byte[64];
        memory.Read(new GuestAddress(0x12000 - 24), back);
        Assert.Equal(data, back);
        Assert.True(memory.Regions[0].Slice(0x2000 - 24, 24).SequenceEqual(data.AsSpan(0, 24)));
        Assert.True(memory.Regions[1].Slice(0, 40).SequenceEqual(data.AsSpan(24)));
    }

    [Fact]
    public void Write_RunningIntoUnmappedSpace_ThrowsAndWritesNothing()
    {
        var memory = TwoAdjacent();
        var ex = Assert.Throws<GuestMemoryException>(() => memory.Write(new GuestAddress(0x13000 - 8), new byte[16]));
        Assert.Equal(GuestMemoryError.RangeNotMapped, ex.Error);

        memory.Write(new GuestAddress(0x13000 - 8), stackalloc byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        Assert.Throws<GuestMemoryException>(() => memory.Write(new GuestAddress(0x13000 - 8), new byte[16]));
        Assert.Equal(1, memory.GetSpan(new GuestAddress(0x13000 - 8), 1)[0]);
    }

    [Fact]
    public void ReadT_StraddlingTwoRegions_ReadsBothHalves()
    {
        var memory = TwoAdjacent();
        memory.Write(new GuestAddress(0x12000 - 4), 0x1122_3344_5566_7788UL);

        Assert.Equal(0x1122_3344_5566_7788UL, memory.Read<ulong>(new GuestAddress(0x12000 - 4)));
        Assert.Equal(0x5566_7788U, memory.Read<uint>(new GuestAddress(0x12000 - 4)));
        Assert.Equal(0x1122_3344U, memory.Read<uint>(new GuestAddress(0x12000)));
    }

    [Fact]
    public void ReadT_RunningIntoGap_Throws()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => TwoAdjacent().Read<ulong>(new GuestAddress(0x13000 - 4)));
        Assert.Equal(GuestMemoryError.RangeNotMapped, ex.Error);
    }

    [Fact]
    public void GetChunk_CrossingRegionEnd_StopsAtTheBoundary()
    {
        var chunk = TwoAdjacent().GetChunk(new GuestAddress(0x12000 - 10), 100);
        Assert.Equal(10, chunk.Length);
    }

    [Fact]
    public void GetChunk_ShorterThanRegionRest_ReturnsRequestedLength()
    {
        Assert.Equal(100, TwoAdjacent().GetChunk(new GuestAddress(0x10000), 100).Length);
        Assert.Equal(0, TwoAdjacent().GetChunk(new GuestAddress(0x10000), 0).Length);
    }

    [Fact]
    public void GetChunk_Unmapped_ThrowsAddressNotMapped()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => TwoAdjacent().GetChunk(new GuestAddress(0x13000), 1));
        Assert.Equal(GuestMemoryError.AddressNotMapped, ex.Error);
    }

    [Fact]
    public void GetChunk_RegionLargerThanIntMax_IsCappedAtIntMax()
    {
        // 3 GiB of reserved-but-untouched anonymous memory: a region a span cannot cover at once.
        var memory = GuestMemory.Create([TestRegions.Anonymous(0, 3UL << 30)]);
        Assert.Equal(int.MaxValue, memory.GetChunk(new GuestAddress(0), ulong.MaxValue).Length);
        Assert.Equal(1 << 30, memory.GetChunk(new GuestAddress(2UL << 30), ulong.MaxValue).Length);
    }

    [Theory]
    [InlineData(0x10000, 0, true)]        // empty range
    [InlineData(0x40000, 0, true)]        // empty range anywhere
    [InlineData(0x10000, 0x3000, true)]   // both adjacent regions exactly
    [InlineData(0x11000, 0x1800, true)]   // across the boundary
    [InlineData(0x10000, 0x3001, false)]  // one byte into the gap
    [InlineData(0x0FFFF, 2, false)]       // starts before
    [InlineData(0x13000, 1, false)]       // in the gap
    public void IsRangeMapped_TwoAdjacentRegions_FollowsEveryByte(ulong address, ulong length, bool expected)
    {
        Assert.Equal(expected, TwoAdjacent().IsRangeMapped(new GuestAddress(address), length));
    }

    [Fact]
    public void IsRangeMapped_RangeWrappingPast2Pow64_ReturnsFalse()
    {
        var top = 0xFFFF_FFFF_FFFF_0000UL;
        var memory = GuestMemory.Create([TestRegions.Anonymous(top, 0xF000, uaddr: 0x1000_0000)]);

        Assert.True(memory.IsRangeMapped(new GuestAddress(top), 0xF000));
        Assert.False(memory.IsRangeMapped(new GuestAddress(top), 0x1_0000));    // ends exactly at 2^64: the last page is unmapped
        Assert.False(memory.IsRangeMapped(new GuestAddress(top), 0x1_0001));    // wraps to 0
        Assert.False(memory.IsRangeMapped(new GuestAddress(top + 0x10), ulong.MaxValue));
        Assert.False(TwoAdjacent().IsRangeMapped(new GuestAddress(0x10000), ulong.MaxValue));
    }

    [Fact]
    public void GuestRegion_EndPast2Pow64_ThrowsInvalidRegion()
    {
        using var mapping = VhostUser.Unix.MappedRegion.MapAnonymous(0x1000);
        var ex = Assert.Throws<GuestMemoryException>(() => new GuestRegion(0xFFFF_FFFF_FFFF_F800, 0x1000, 0x1000, mapping, 0));
        Assert.Equal(GuestMemoryError.InvalidRegion, ex.Error);
    }

    [Fact]
    public void GuestRegion_LargerThanItsMapping_ThrowsInvalidRegion()
    {
        using var mapping = VhostUser.Unix.MappedRegion.MapAnonymous(0x1000);
        var ex = Assert.Throws<GuestMemoryException>(() => new GuestRegion(0, 0x1000, 0x1000, mapping, 0x800));
        Assert.Equal(GuestMemoryError.InvalidRegion, ex.Error);
    }

    [Fact]
    public void Lookups_ManyRegions_FindEveryRegionByBinarySearch()
    {
        // More than 8 regions switches FindRegion from a scan to a binary search.
        var regions = new List<GuestRegion>();
        for (ulong i = 0; i < 20; i++)
        {
            regions.Add(TestRegions.Anonymous(0x100000 * i + 0x1000, Page)); // gaps between regions
        }
        var memory = GuestMemory.Create(regions.AsEnumerable().Reverse());

        for (ulong i = 0; i < 20; i++)
        {
            ulong start = 0x100000 * i + 0x1000;
            Assert.True(memory.TryGetSpan(new GuestAddress(start), (int)Page, out _));
            Assert.True(memory.TryGetSpan(new GuestAddress(start + Page - 1), 1, out _));
            Assert.False(memory.TryGetSpan(new GuestAddress(start - 1), 1, out _));
            Assert.False(memory.TryGetSpan(new GuestAddress(start + Page), 1, out _));
        }
    }

    [Fact]
    public void TryTranslateUserAddress_InsideRegion_ReturnsGuestAddress()
    {
        var memory = TwoAdjacent();
        ulong uaddr = memory.Regions[1].UserAddress + 0x10;

        Assert.True(memory.TryTranslateUserAddress(uaddr, 0x100, out var gpa));
        Assert.Equal(0x12010UL, gpa.Value);
    }

    [Theory]
    [InlineData(0x7f00_0001_1ff0, 0x20)]  // crosses from one region's user range into the next
    [InlineData(0x7f00_0001_2ff0, 0x20)]  // runs past the end of the last region
    [InlineData(0x7f00_0002_0000, 1)]     // not a front-end address of any region
    [InlineData(0x0, 1)]
    public void TryTranslateUserAddress_NotInOneRegion_ReturnsFalse(ulong uaddr, ulong length)
    {
        Assert.False(TwoAdjacent().TryTranslateUserAddress(uaddr, length, out _));
    }

    [Fact]
    public void GuestAddressAdd_Overflow_ThrowsAddressOverflow()
    {
        var ex = Assert.Throws<GuestMemoryException>(() => new GuestAddress(ulong.MaxValue - 1).Add(2));
        Assert.Equal(GuestMemoryError.AddressOverflow, ex.Error);
        Assert.Equal(ulong.MaxValue, new GuestAddress(ulong.MaxValue - 1).Add(1).Value);
        Assert.False(new GuestAddress(1).TryAdd(ulong.MaxValue, out _));
    }
}
