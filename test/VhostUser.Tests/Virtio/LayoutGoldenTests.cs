// LayoutGoldenTests.cs — the wire layouts checked against the spec's tables (virtio spec 2.7 and
// 2.8; shared/reference/virtqueues.md §2, §6, §8), written from the tables and not from our
// constants: the driver side shares these types with the device side, so a misreading shared
// by both would pass every round-trip test (design README 1.9).
using System.Runtime.InteropServices;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class LayoutGoldenTests
{
    [Fact]
    public void Descriptor_Serialized_Is16BytesWithAddrLenFlagsNextAt0_8_12_14()
    {
        var d = new Descriptor(0x1122_3344_5566_7788, 0xAABB_CCDD, (DescriptorFlags)0x0102, 0x0304);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Descriptor>(in d)).ToArray();

        Assert.Equal(
            new byte[] { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xDD, 0xCC, 0xBB, 0xAA, 0x02, 0x01, 0x04, 0x03 },
            bytes);
        Assert.Equal(16, Descriptor.Size);
    }

    [Fact]
    public void PackedDescriptor_Serialized_Is16BytesWithAddrLenIdFlagsAt0_8_12_14()
    {
        var d = new PackedDescriptor(0x1122_3344_5566_7788, 0xAABB_CCDD, 0x0506, (DescriptorFlags)0x8081);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<PackedDescriptor>(in d)).ToArray();

        Assert.Equal(
            new byte[] { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xDD, 0xCC, 0xBB, 0xAA, 0x06, 0x05, 0x81, 0x80 },
            bytes);
        Assert.Equal(16, PackedDescriptor.Size);
    }

    [Fact]
    public void UsedElement_Serialized_Is8BytesWithIdAt0AndLenAt4()
    {
        var e = new UsedElement(0x0102_0304, 0x0A0B_0C0D);
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<UsedElement>(in e)).ToArray();

        Assert.Equal(new byte[] { 0x04, 0x03, 0x02, 0x01, 0x0D, 0x0C, 0x0B, 0x0A }, bytes);
        Assert.Equal(8, UsedElement.Size);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(32768)]
    public void SplitRing_AreaSizes_Are16N_6Plus2N_6Plus8N(int n)
    {
        Assert.Equal(16 * n, SplitRing.DescriptorTableSize(n));
        Assert.Equal(6 + 2 * n, SplitRing.AvailRingSize(n));
        Assert.Equal(6 + 8 * n, SplitRing.UsedRingSize(n));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(256)]
    public void SplitRing_EventFields_AreAfterTheRings(int n)
    {
        Assert.Equal(4 + 2 * n, SplitRing.UsedEventOffset(n));  // avail: flags, idx, ring[N], used_event
        Assert.Equal(4 + 8 * n, SplitRing.AvailEventOffset(n)); // used: flags, idx, ring[N], avail_event
    }

    [Fact]
    public void SplitRing_FieldOffsets_MatchTheSpecTables()
    {
        Assert.Equal(0, SplitRing.AvailFlagsOffset);
        Assert.Equal(2, SplitRing.AvailIndexOffset);
        Assert.Equal(4, SplitRing.AvailRingOffset);
        Assert.Equal(4 + 2 * 5, SplitRing.AvailEntryOffset(5));
        Assert.Equal(0, SplitRing.UsedFlagsOffset);
        Assert.Equal(2, SplitRing.UsedIndexOffset);
        Assert.Equal(4, SplitRing.UsedRingOffset);
        Assert.Equal(4 + 8 * 5, SplitRing.UsedEntryOffset(5));
    }

    [Fact]
    public void SplitRing_Alignments_Are16_2_4()
    {
        Assert.Equal(16, SplitRing.DescriptorAlignment);
        Assert.Equal(2, SplitRing.AvailAlignment);
        Assert.Equal(4, SplitRing.UsedAlignment);
    }

    [Fact]
    public void PackedRing_Layout_MatchesTheSpecTables()
    {
        Assert.Equal(16 * 100, PackedRing.DescriptorRingSize(100));
        Assert.Equal(16 * 7, PackedRing.DescriptorOffset(7));
        Assert.Equal(14, PackedRing.FlagsOffsetInDescriptor);
        Assert.Equal(4, PackedRing.EventSize);
        Assert.Equal(0, PackedRing.EventOffWrapOffset);
        Assert.Equal(2, PackedRing.EventFlagsOffset);
        Assert.Equal(16, PackedRing.DescriptorAlignment);
        Assert.Equal(4, PackedRing.EventAlignment);
    }

    [Fact]
    public void EventAndRingFlags_HaveSpecValues()
    {
        Assert.Equal(0, PackedRing.EventFlagsEnable);
        Assert.Equal(1, PackedRing.EventFlagsDisable);
        Assert.Equal(2, PackedRing.EventFlagsDesc);
        Assert.Equal(1, SplitRing.AvailNoInterrupt);
        Assert.Equal(1, SplitRing.UsedNoNotify);
    }

    [Fact]
    public void DescriptorFlags_HaveSpecValues()
    {
        Assert.Equal(1, (int)DescriptorFlags.Next);
        Assert.Equal(2, (int)DescriptorFlags.Write);
        Assert.Equal(4, (int)DescriptorFlags.Indirect);
        Assert.Equal(1 << 7, (int)DescriptorFlags.PackedAvail);
        Assert.Equal(1 << 15, (int)DescriptorFlags.PackedUsed);
    }

    [Theory]
    [InlineData(VirtioFeatures.NotifyOnEmpty, 24)]
    [InlineData(VirtioFeatures.VhostLogAll, 26)]
    [InlineData(VirtioFeatures.AnyLayout, 27)]
    [InlineData(VirtioFeatures.IndirectDesc, 28)]
    [InlineData(VirtioFeatures.EventIdx, 29)]
    [InlineData(VirtioFeatures.ProtocolFeatures, 30)]
    [InlineData(VirtioFeatures.Version1, 32)]
    [InlineData(VirtioFeatures.AccessPlatform, 33)]
    [InlineData(VirtioFeatures.RingPacked, 34)]
    [InlineData(VirtioFeatures.InOrder, 35)]
    [InlineData(VirtioFeatures.OrderPlatform, 36)]
    [InlineData(VirtioFeatures.SrIov, 37)]
    [InlineData(VirtioFeatures.NotificationData, 38)]
    [InlineData(VirtioFeatures.RingReset, 40)]
    public void VirtioFeatures_Bit_HasSpecNumber(VirtioFeatures feature, int bit)
    {
        Assert.Equal(1UL << bit, (ulong)feature);
    }

    [Theory]
    [InlineData(VirtioDeviceType.Net, 1)]
    [InlineData(VirtioDeviceType.Block, 2)]
    [InlineData(VirtioDeviceType.Console, 3)]
    [InlineData(VirtioDeviceType.Rng, 4)]
    [InlineData(VirtioDeviceType.Scsi, 8)]
    [InlineData(VirtioDeviceType.Gpu, 16)]
    [InlineData(VirtioDeviceType.Input, 18)]
    [InlineData(VirtioDeviceType.Vsock, 19)]
    [InlineData(VirtioDeviceType.Sound, 25)]
    [InlineData(VirtioDeviceType.Fs, 26)]
    [InlineData(VirtioDeviceType.Scmi, 32)]
    [InlineData(VirtioDeviceType.I2c, 34)]
    [InlineData(VirtioDeviceType.Gpio, 41)]
    public void VirtioDeviceType_Id_HasSpecValue(VirtioDeviceType type, uint id)
    {
        Assert.Equal(id, (uint)type);
    }

    [Theory]
    [InlineData(0, 1, 0, true)]          // the first new entry is the event
    [InlineData(1, 1, 0, false)]         // event not reached yet
    [InlineData(3, 10, 2, true)]         // inside a batch
    [InlineData(2, 10, 3, false)]        // already passed before old
    [InlineData(65535, 2, 65534, true)]  // window wraps through 0
    [InlineData(1, 0, 65535, false)]     // beyond new
    [InlineData(7, 7, 7, false)]         // empty window
    public void NeedEvent_Window_IsOldInclusiveToNewExclusiveModulo2Pow16(int eventIndex, int newIndex, int oldIndex, bool expected)
    {
        // vring_need_event: (u16)(new - event - 1) < (u16)(new - old).
        Assert.Equal(expected, SplitRing.NeedEvent((ushort)eventIndex, (ushort)newIndex, (ushort)oldIndex));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(256, true)]
    [InlineData(32768, true)]
    [InlineData(0, false)]
    [InlineData(3, false)]
    [InlineData(1000, false)]
    [InlineData(65536, false)]
    public void SplitRing_IsValidSize_PowersOfTwoUpTo32768(int size, bool valid)
    {
        Assert.Equal(valid, SplitRing.IsValidSize(size));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(1000, true)]
    [InlineData(32768, true)]
    [InlineData(0, false)]
    [InlineData(32769, false)]
    [InlineData(-1, false)]
    public void PackedRing_IsValidSize_AnySizeUpTo32768(int size, bool valid)
    {
        Assert.Equal(valid, PackedRing.IsValidSize(size));
    }

    [Theory]
    [InlineData(0x0080, true, true, false)]   // AVAIL=1 USED=0: available in wrap 1
    [InlineData(0x8000, false, true, false)]  // AVAIL=0 USED=1: available in wrap 0
    [InlineData(0x8080, true, false, true)]   // AVAIL=USED=1: used in wrap 1
    [InlineData(0x0000, false, false, true)]  // AVAIL=USED=0: used in wrap 0
    [InlineData(0x0080, false, false, false)] // wrap-1 descriptor seen in wrap 0: neither
    [InlineData(0x0000, true, false, false)]  // zeroed ring at start: nothing available
    public void PackedRing_AvailableAndUsed_FollowTheWrapCounter(int flags, bool wrap, bool available, bool used)
    {
        Assert.Equal(available, PackedRing.IsAvailable((DescriptorFlags)flags, wrap));
        Assert.Equal(used, PackedRing.IsUsed((DescriptorFlags)flags, wrap));
    }
}
