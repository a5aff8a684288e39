// MappedRegionTests.cs — memfd sizing and the bounds of the spans a mapping hands out.
using VhostUser.Unix;

namespace VhostUser.Tests.Unix;

public sealed class MappedRegionTests
{
    [Fact]
    public void MemFdCreate_Size_IsTheFileSize()
    {
        using var fd = MemFd.Create("size", 3 * 4096 + 5);
        Assert.Equal(3 * 4096 + 5, fd.GetFileSize());
    }

    [Fact]
    public void Map_TwoMappingsOfOneMemFd_ShareTheBytes()
    {
        using var fd = MemFd.Create("shared", 8192, sealSize: true);
        using var first = MappedRegion.Map(fd, 8192);
        using var second = MappedRegion.Map(fd, 4096, fileOffset: 4096);

        first.GetSpan(4096 + 10, 3).Fill(7);

        Assert.Equal(new byte[] { 7, 7, 7 }, second.GetSpan(10, 3).ToArray());
        Assert.Equal(4096UL, second.Length);
    }

    [Theory]
    [InlineData(0UL, 4096, true)]
    [InlineData(4095UL, 1, true)]
    [InlineData(4096UL, 0, true)]
    [InlineData(4095UL, 2, false)]
    [InlineData(4096UL, 1, false)]
    [InlineData(4097UL, 0, false)]
    [InlineData(0UL, -1, false)]
    [InlineData(ulong.MaxValue, 2, false)]
    public void GetSpan_Range_IsAllowedOnlyInsideTheMapping(ulong offset, int length, bool allowed)
    {
        using var region = MappedRegion.MapAnonymous(4096);
        if (allowed)
        {
            Assert.Equal(length, region.GetSpan(offset, length).Length);
        }
        else
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(offset, length));
        }
    }

    [Fact]
    public void Map_ZeroLength_Throws()
    {
        using var fd = MemFd.Create("empty", 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => MappedRegion.Map(fd, 0));
    }

    [Fact]
    public void GetSpan_AfterDispose_ThrowsInsteadOfReturningUnmappedMemory()
    {
        var region = MappedRegion.MapAnonymous(4096);
        region.Dispose();

        Assert.True(region.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => region.GetSpan(0, 1));
    }
}
