// WireGoldenTests.cs — the wire structs and numbers checked against the spec tables, written out
// literally here (design README 1.9: a front end that shares the back end's code can share its
// misreading, so these come from /work/shared/reference/vhost-user-protocol.md §2, §3, §4, §6,
// not from the code). Field offsets are found by writing a distinct value into each field and
// reading the bytes back in host order.
using System.Buffers.Binary;
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;

namespace VhostUser.Frontend.Tests.Protocol;

public sealed class WireGoldenTests
{
    [Fact]
    public void MessageHeader_Layout_TwelveBytesRequestFlagsSize()
    {
        var bytes = Raw.Bytes(new MessageHeader(Request: 0x11223344, Flags: (HeaderFlags)0x55667788, Size: 0x99AABBCC));
        Assert.Equal(12, bytes.Length);
        Assert.Equal(12, MessageHeader.WireSize);
        Assert.Equal(0x11223344u, U32(bytes, 0));
        Assert.Equal(0x55667788u, U32(bytes, 4));
        Assert.Equal(0x99AABBCCu, U32(bytes, 8));
    }

    [Fact]
    public void HeaderFlags_Values_VersionOneReplyFourNeedReplyEight()
    {
        Assert.Equal(0x1u, (uint)HeaderFlags.Version1);
        Assert.Equal(0x4u, (uint)HeaderFlags.Reply);
        Assert.Equal(0x8u, (uint)HeaderFlags.NeedReply);
        Assert.Equal(0x5u, (uint)MessageHeader.ForReply(1, 8).Flags); // QEMU accepts exactly 0x5
        Assert.Equal(0x9u, (uint)MessageHeader.ForRequest(1, 0, needReply: true).Flags);
    }

    [Fact]
    public void VringState_Layout_EightBytesIndexNum()
    {
        var bytes = Raw.Bytes(new VringState(Index: 0x01020304, Num: 0x05060708));
        Assert.Equal(8, bytes.Length);
        Assert.Equal(0x01020304u, U32(bytes, 0));
        Assert.Equal(0x05060708u, U32(bytes, 4));
    }

    [Fact]
    public void VringAddress_Layout_FortyBytesDescUsedAvailLog()
    {
        var bytes = Raw.Bytes(new VringAddress(Index: 7, Flags: 1, DescriptorUserAddress: 0x1111, UsedUserAddress: 0x2222, AvailUserAddress: 0x3333, LogGuestAddress: 0x4444));
        Assert.Equal(40, bytes.Length);
        Assert.Equal(7u, U32(bytes, 0));
        Assert.Equal(1u, U32(bytes, 4));
        Assert.Equal(0x1111UL, U64(bytes, 8));  // desc_user_addr
        Assert.Equal(0x2222UL, U64(bytes, 16)); // used_user_addr
        Assert.Equal(0x3333UL, U64(bytes, 24)); // avail_user_addr
        Assert.Equal(0x4444UL, U64(bytes, 32)); // log_guest_addr
    }

    [Fact]
    public void MemoryRegion_Layout_ThirtyTwoBytes()
    {
        var bytes = Raw.Bytes(new MemoryRegion(GuestPhysicalAddress: 0x10, MemorySize: 0x20, UserAddress: 0x30, MmapOffset: 0x40));
        Assert.Equal(32, bytes.Length);
        Assert.Equal([0x10UL, 0x20UL, 0x30UL, 0x40UL], [U64(bytes, 0), U64(bytes, 8), U64(bytes, 16), U64(bytes, 24)]);
    }

    [Fact]
    public void MemoryTableHeader_Layout_EightBytesCountPadding()
    {
        var bytes = Raw.Bytes(new MemoryTableHeader(RegionCount: 3, Padding: 0xFFFF_FFFF));
        Assert.Equal(8, bytes.Length);
        Assert.Equal(3u, U32(bytes, 0));
        Assert.Equal(0xFFFF_FFFFu, U32(bytes, 4));
        Assert.Equal(8, MemoryTableHeader.MaxRegions); // VHOST_MEMORY_BASELINE_NREGIONS
    }

    [Fact]
    public void SingleMemoryRegion_Layout_FortyBytesPaddingThenRegion()
    {
        var bytes = Raw.Bytes(new SingleMemoryRegion(Padding: 0x99, Region: new MemoryRegion(GuestPhysicalAddress: 0x10, MemorySize: 0x20, UserAddress: 0x30, MmapOffset: 0x40)));
        Assert.Equal(40, bytes.Length);
        Assert.Equal(0x99UL, U64(bytes, 0));
        Assert.Equal(0x10UL, U64(bytes, 8));
        Assert.Equal(0x40UL, U64(bytes, 32));
    }

    [Fact]
    public void ConfigSpaceHeader_Layout_TwelveBytesOffsetSizeFlags()
    {
        var bytes = Raw.Bytes(new ConfigSpaceHeader(Offset: 0x0A, Size: 0x0B, Flags: 0x0C));
        Assert.Equal(12, bytes.Length);
        Assert.Equal([0x0Au, 0x0Bu, 0x0Cu], [U32(bytes, 0), U32(bytes, 4), U32(bytes, 8)]);
        Assert.Equal(256, ConfigSpaceHeader.MaxDataSize); // VHOST_USER_MAX_CONFIG_SIZE
    }

    [Fact]
    public void InflightRegion_Layout_TwentyFourBytesWithTailPadding()
    {
        var bytes = Raw.Bytes(new InflightRegion(MmapSize: 0x1111, MmapOffset: 0x2222, QueueCount: 0x33, QueueSize: 0x44, Padding: 0x55));
        Assert.Equal(24, bytes.Length);
        Assert.Equal(0x1111UL, U64(bytes, 0));
        Assert.Equal(0x2222UL, U64(bytes, 8));
        Assert.Equal((ushort)0x33, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16)));
        Assert.Equal((ushort)0x44, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(18)));
        Assert.Equal(0x55u, U32(bytes, 20));
    }

    [Fact]
    public void LogRegion_Layout_SixteenBytesSizeOffset()
    {
        var bytes = Raw.Bytes(new LogRegion(MmapSize: 0x1234, MmapOffset: 0x5678));
        Assert.Equal(16, bytes.Length);
        Assert.Equal(0x1234UL, U64(bytes, 0));
        Assert.Equal(0x5678UL, U64(bytes, 8));
    }

    [Fact]
    public void DeviceStateTransfer_Layout_EightBytesDirectionPhase()
    {
        var bytes = Raw.Bytes(new DeviceStateTransfer(Direction: 1, Phase: 0));
        Assert.Equal(8, bytes.Length);
        Assert.Equal(1u, U32(bytes, 0));
        Assert.Equal(0u, U32(bytes, 4));
        Assert.Equal(0u, DeviceStateTransfer.DirectionSave);
        Assert.Equal(1u, DeviceStateTransfer.DirectionLoad);
    }

    [Fact]
    public void VringFileIndex_Layout_IndexInLowByteNoFdBit8()
    {
        Assert.Equal(0x1_05UL, U64(Raw.FileIndex(5, noFd: true), 0));
        Assert.Equal(0xFFUL, U64(Raw.FileIndex(255), 0));
        Assert.Equal(8, Raw.U64(0).Length);
    }

    private static uint U32(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));

    private static ulong U64(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset));
}
