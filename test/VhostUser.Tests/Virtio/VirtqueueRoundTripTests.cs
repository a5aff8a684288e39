// VirtqueueRoundTripTests.cs — driver offers, device pops, reads, writes and completes, driver
// takes back: under every ring shape (split/packed × EVENT_IDX × INDIRECT).
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class VirtqueueRoundTripTests
{
    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void PopComplete_OneChain_DeviceSeesTheBuffersAndDriverGetsIdLengthAndBytes(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect);
        var first = ChainData.Pattern(16, seed: 3);
        var second = ChainData.Pattern(5, seed: 9);
        ushort id = h.Offer(indirect, DriverBuffer.Readable(first), DriverBuffer.Readable(second), DriverBuffer.Writable(32), DriverBuffer.Writable(8));

        var chain = h.Pop();
        Assert.Equal(id, chain.Id);
        Assert.Equal(21u, chain.ReadableLength);
        Assert.Equal(40u, chain.WritableLength);
        Assert.Equal(h.Driver.GetOfferedSegments(id), chain.Segments.ToArray());
        Assert.Equal(first.Concat(second), ChainData.ReadAll(chain));
        var reply = ChainData.Pattern(35, seed: 5);
        var writer = chain.CreateWriter();
        Assert.Equal(35, writer.Write(reply));
        h.Device.AddUsed(chain, writer.BytesWritten);
        Assert.False(h.Device.TryPop(out _));

        var used = h.TakeUsed();
        Assert.Equal(id, used.Id);
        Assert.Equal(35u, used.Length);
        Assert.Equal(reply, h.Driver.ReadWritten(used));
        Assert.False(h.Driver.TryTakeUsed(out _));
        Assert.Equal(0, h.Driver.InFlightCount);
        Assert.Equal(0, h.Device.InFlightCount);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void Complete_OutOfOrder_EveryChainReturnsWithItsOwnIdAndLength(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect, size: 8);
        var ids = new List<ushort>();
        for (int i = 0; i < 4; i++)
        {
            ids.Add(h.Offer(indirect, DriverBuffer.Readable(new byte[] { (byte)i }), DriverBuffer.Writable(16)));
        }
        var chains = Enumerable.Range(0, 4).Select(_ => h.Pop()).ToList();
        Assert.Equal(ids, chains.Select(c => c.Id));

        foreach (int i in new[] { 2, 0, 3, 1 })
        {
            var writer = chains[i].CreateWriter();
            writer.Write(ChainData.Pattern(i + 1, seed: i));
            h.Device.AddUsed(chains[i], writer.BytesWritten);
        }

        foreach (int i in new[] { 2, 0, 3, 1 })
        {
            var used = h.TakeUsed();
            Assert.Equal(ids[i], used.Id);
            Assert.Equal((uint)(i + 1), used.Length);
            Assert.Equal(ChainData.Pattern(i + 1, seed: i), h.Driver.ReadWritten(used));
        }
    }

    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void AddUsed_MoreBytesThanWritable_ReportsOnlyTheWritableLength(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect);
        h.Offer(indirect, DriverBuffer.Readable(new byte[4]), DriverBuffer.Writable(10), DriverBuffer.Writable(6));
        h.Offer(indirect, DriverBuffer.Readable(new byte[4]));

        h.Device.AddUsed(h.Pop(), 1000);
        h.Device.AddUsed(h.Pop(), 1000);

        Assert.Equal(16u, h.TakeUsed().Length);
        Assert.Equal(0u, h.TakeUsed().Length); // nothing writable: nothing can have been written
    }

    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void Pop_ZeroLengthBuffers_AreSkipped(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect);
        h.Offer(indirect, DriverBuffer.Readable(new byte[] { 1 }), DriverBuffer.Readable(Array.Empty<byte>()), DriverBuffer.Writable(0), DriverBuffer.Writable(2));

        var chain = h.Pop();

        Assert.Equal(2, chain.Segments.Length);
        Assert.Equal((1u, 2u), (chain.ReadableLength, chain.WritableLength));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void PopComplete_ThreeLapsOfTheRing_ReusesDescriptorsAndIds(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect, size: 4);
        for (int i = 0; i < 12; i++)
        {
            var data = ChainData.Pattern(3 + i, seed: i);
            ushort id = h.Offer(indirect, DriverBuffer.Readable(data), DriverBuffer.Writable(8));
            var chain = h.Pop();
            Assert.Equal(id, chain.Id);
            Assert.Equal(data, ChainData.ReadAll(chain));
            h.Device.AddUsed(chain, (uint)(i % 8));
            var used = h.TakeUsed();
            Assert.Equal((id, (uint)(i % 8)), ((ushort)used.Id, used.Length));
        }
    }

    [Fact]
    public void Segments_AfterCompletion_ThrowsChainNotInFlight()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Writable(4));
        var chain = h.Pop();
        h.Device.AddUsed(chain, 0);

        var ex = Assert.Throws<VirtqueueException>(() => chain.Segments.Length);
        Assert.Equal(VirtqueueError.ChainNotInFlight, ex.Error);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void HasAvailable_BeforeAndAfterPop_FollowsTheRing(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        Assert.False(h.Device.HasAvailable());
        h.Offer(false, DriverBuffer.Writable(4));
        Assert.True(h.Device.HasAvailable());
        h.Pop();
        Assert.False(h.Device.HasAvailable());
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Segments_ChainFromBeforeARestart_EmptyNotCurrentAndNotCompletable(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        h.Offer(false, DriverBuffer.Writable(4));
        var stale = h.Pop();
        Assert.True(h.Device.IsCurrent(stale));

        uint position = h.Device.GetBase();
        h.Device.Stop();
        Assert.False(h.Device.IsCurrent(stale)); // gone as soon as the ring stops
        h.Device.SetBase(position);
        h.Device.Start(h.Backend);
        h.Offer(false, DriverBuffer.Writable(4));
        var fresh = h.Pop();

        Assert.False(h.Device.IsCurrent(stale));
        Assert.True(h.Device.IsCurrent(fresh));
        Assert.True(stale.Segments.IsEmpty);
        Assert.Equal(0u, stale.CreateWriter().Remaining);
        Assert.Equal(VirtqueueError.ChainNotInFlight, Assert.Throws<VirtqueueException>(() => h.Device.AddUsed(stale, 4)).Error);
        Assert.Equal(1, h.Device.InFlightCount);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Discard_InFlightChain_NothingUsedAndNoLongerInFlight(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        h.Offer(false, DriverBuffer.Writable(4));
        var chain = h.Pop();

        h.Device.Discard(chain);

        Assert.Equal(0, h.Device.InFlightCount);
        Assert.False(h.Driver.TryTakeUsed(out _));
        Assert.Equal(VirtqueueError.ChainNotInFlight, Assert.Throws<VirtqueueException>(() => h.Device.Discard(chain)).Error);
    }
}
