// InflightLayoutTests.cs — the inflight area layout checked against the rst's structs
// (vhost-user-protocol.md §11: QueueRegionSplit/DescStateSplit, QueueRegionPacked/DescStatePacked),
// written from the tables and not from our constants: raw bytes are read at the golden offsets
// after the Virtqueue recorded real pops and completions.
using System.Buffers.Binary;
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class InflightLayoutTests
{
    [Fact]
    public void Constants_MatchTheRstStructOffsets()
    {
        // QueueRegionSplit: u64 features, u16 version, u16 desc_num, u16 last_batch_head, u16 used_idx.
        Assert.Equal((0, 8, 10, 12, 14, 16), (InflightLayout.FeaturesOffset, InflightLayout.VersionOffset, InflightLayout.DescNumOffset,
            InflightLayout.SplitLastBatchHeadOffset, InflightLayout.SplitUsedIndexOffset, InflightLayout.SplitHeaderSize));
        // DescStateSplit: u8 inflight, u8 padding[5], u16 next, u64 counter.
        Assert.Equal((0, 6, 8, 16), (InflightLayout.SplitInflightOffset, InflightLayout.SplitNextOffset, InflightLayout.SplitCounterOffset, InflightLayout.SplitEntrySize));
        // QueueRegionPacked: ..., u16 free_head, old_free_head, used_idx, old_used_idx, u8 used_wrap_counter, old_used_wrap_counter, u8 padding[7] (+3).
        Assert.Equal((12, 14, 16, 18, 20, 21, 32), (InflightLayout.PackedFreeHeadOffset, InflightLayout.PackedOldFreeHeadOffset,
            InflightLayout.PackedUsedIndexOffset, InflightLayout.PackedOldUsedIndexOffset, InflightLayout.PackedUsedWrapOffset,
            InflightLayout.PackedOldUsedWrapOffset, InflightLayout.PackedHeaderSize));
        // DescStatePacked: u8 inflight, u8 padding, u16 next, u16 last, u16 num, u64 counter, u16 id, u16 flags, u32 len, u64 addr.
        Assert.Equal((0, 2, 4, 6, 8, 16, 18, 20, 24, 32), (InflightLayout.PackedInflightOffset, InflightLayout.PackedNextOffset,
            InflightLayout.PackedLastOffset, InflightLayout.PackedNumOffset, InflightLayout.PackedCounterOffset, InflightLayout.PackedIdOffset,
            InflightLayout.PackedFlagsOffset, InflightLayout.PackedLengthOffset, InflightLayout.PackedAddressOffset, InflightLayout.PackedEntrySize));
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(16, 576)]
    [InlineData(128, 4160)]
    [InlineData(256, 8256)]
    public void QueueRegionSize_IsPackedRegionRoundedUpTo64(int queueSize, long expected)
    {
        Assert.Equal(expected, InflightLayout.QueueRegionSize(queueSize));
        Assert.Equal(3 * expected, InflightLayout.AreaSize(3, queueSize));
        Assert.Equal(2 * expected, InflightLayout.QueueRegionOffset(2, queueSize));
    }

    [Fact]
    public void Split_PopAndComplete_WritesFieldsAtGoldenOffsets()
    {
        using var rig = InflightRig.Create(packed: false, size: 8);
        var device = rig.StartDevice();
        var bytes = rig.Region;
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]));   // version
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(bytes[10..]));  // desc_num
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes[14..]));  // used_idx

        ushort a = rig.Offer(1);
        ushort b = rig.Offer(2);
        var chainA = InflightRig.Pop(device);
        var chainB = InflightRig.Pop(device);
        Assert.Equal(1, rig.Region[16 + 16 * a]);                                                  // inflight
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(rig.Region[(16 + 16 * a + 8)..])); // counter
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(rig.Region[(16 + 16 * b + 8)..]));

        device.AddUsed(chainB, 0);
        Assert.Equal(0, rig.Region[16 + 16 * b]);
        Assert.Equal(b, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[12..]));  // last_batch_head
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[14..]));  // used_idx = used->idx
        Assert.Equal(1, rig.Region[16 + 16 * a]);
        device.AddUsed(chainA, 0);
        Assert.Equal(b, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[(16 + 16 * a + 6)..])); // next: the previous batch head
    }

    [Fact]
    public void Packed_PopTwoDescriptorChain_CopiesEachDescriptorAtGoldenOffsets()
    {
        using var rig = InflightRig.Create(packed: true, size: 8);
        var device = rig.StartDevice();
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[8..]));
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[10..]));
        Assert.Equal(1, rig.Region[20]); // used_wrap_counter starts at 1

        ushort id = rig.Driver.Offer(DriverBuffer.Readable(new byte[] { 9, 9, 9 }), DriverBuffer.Writable(5));
        var chain = InflightRig.Pop(device);
        var segments = rig.Driver.GetOfferedSegments(id);

        var head = rig.Region[32..];     // entry 0: the chain's head
        var second = rig.Region[64..];   // entry 1: its second descriptor
        Assert.Equal(1, head[0]);                                                    // inflight
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));         // next (free-list link to entry 1)
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(head[4..]));         // last
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(head[6..]));         // num
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(head[8..]));       // counter
        Assert.Equal(segments[0].Address, BinaryPrimitives.ReadUInt64LittleEndian(head[24..]));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(head[20..]));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(second[20..]));
        Assert.Equal(id, BinaryPrimitives.ReadUInt16LittleEndian(second[16..]));
        var secondFlags = (DescriptorFlags)BinaryPrimitives.ReadUInt16LittleEndian(second[18..]);
        Assert.True((secondFlags & DescriptorFlags.Write) != 0);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[12..]));  // free_head
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[14..]));  // old_free_head (committed)

        device.AddUsed(chain, 0);
        Assert.Equal(0, rig.Region[32]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[12..]));  // entries back on the free list
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[16..]));  // used_idx advanced by num
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[18..]));  // old_used_idx committed
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(second[2..]));       // last entry links to the old free head
    }
}
