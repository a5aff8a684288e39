// ChainReaderWriterTests.cs — ChainReader / ChainWriter hide scatter-gather: reads and writes that
// straddle segment ends, wire structs split across segments, buffers that cross from one memory
// region into the next, and the exact-or-nothing Try methods.
using System.Runtime.InteropServices;
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class ChainReaderWriterTests
{
    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Read_SmallPiecesOverManySegments_ReturnsTheBytesInOrder(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        var data = ChainData.Pattern(1 + 2 + 7 + 13);
        h.Offer(false, DriverBuffer.Readable(data.AsMemory(0, 1)), DriverBuffer.Readable(data.AsMemory(1, 2)), DriverBuffer.Readable(data.AsMemory(3, 7)), DriverBuffer.Readable(data.AsMemory(10)));
        var reader = h.Pop().CreateReader();

        var back = new List<byte>();
        var piece = new byte[3];
        int n;
        while ((n = reader.Read(piece)) > 0)
        {
            back.AddRange(piece[..n]);
        }

        Assert.Equal(data, back);
        Assert.Equal(0u, reader.Remaining);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void TryRead_StructSplitAcrossSegments_ReadsTheWholeValue(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        var bytes = BitConverter.GetBytes(0x1122_3344_5566_7788UL);
        h.Offer(false, DriverBuffer.Readable(bytes.AsMemory(0, 3)), DriverBuffer.Readable(bytes.AsMemory(3)), DriverBuffer.Readable(new byte[] { 0xAB }));
        var reader = h.Pop().CreateReader();

        Assert.True(reader.TryRead(out ulong value));
        Assert.Equal(0x1122_3344_5566_7788UL, value);
        Assert.True(reader.TryRead(out byte last));
        Assert.Equal(0xAB, last);
        Assert.False(reader.TryRead(out byte _));
    }

    [Fact]
    public void TryReadExactly_NotEnoughBytes_ReturnsFalseAndConsumesNothing()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Readable(new byte[] { 1, 2, 3 }));
        var reader = h.Pop().CreateReader();

        Assert.False(reader.TryReadExactly(new byte[4]));
        Assert.False(reader.TryRead(out uint _));
        Assert.Equal(3u, reader.Remaining);
        var all = new byte[3];
        Assert.True(reader.TryReadExactly(all));
        Assert.Equal(new byte[] { 1, 2, 3 }, all);
    }

    [Fact]
    public void SkipAndReadSpan_AcrossSegments_MoveThroughTheStream()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Readable(new byte[] { 1, 2, 3 }), DriverBuffer.Readable(new byte[] { 4, 5, 6, 7 }));
        var reader = h.Pop().CreateReader();

        Assert.Equal(4u, reader.Skip(4));
        var span = reader.ReadSpan(100);
        Assert.Equal(new byte[] { 5, 6, 7 }, span.ToArray()); // bounded by the segment
        Assert.True(reader.ReadSpan(100).IsEmpty);
        Assert.Equal(0u, reader.Skip(10));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Write_OverManySegments_FillsThemInOrderAndLeavesGapsAlone(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        ushort id = h.Offer(false, DriverBuffer.Readable(new byte[2]), DriverBuffer.Writable(3), DriverBuffer.Writable(5), DriverBuffer.Writable(100));
        var chain = h.Pop();
        var writer = chain.CreateWriter();
        var data = ChainData.Pattern(20);

        Assert.Equal(2, writer.Write(data.AsSpan(0, 2)));
        Assert.Equal(18, writer.Write(data.AsSpan(2)));
        Assert.Equal(20u, writer.BytesWritten);
        Assert.Equal(88u, writer.Remaining);
        h.Device.AddUsed(chain, writer.BytesWritten);

        Assert.Equal(data, h.Driver.ReadWritten(h.TakeUsed()));
        foreach (var segment in h.Driver.GetOfferedSegments(id))
        {
            // The byte after every buffer is the driver's poison: no write ran past a segment end.
            Assert.Equal(DriverQueue.Poison, h.Memory.Read<byte>(new GuestAddress(segment.Address + segment.Length)));
        }
    }

    [Fact]
    public void Write_MoreThanRoom_WritesWhatFitsAndTryWriteWritesNothing()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Writable(3), DriverBuffer.Writable(2));
        var writer = h.Pop().CreateWriter();

        Assert.False(writer.TryWrite(new byte[6]));
        Assert.False(writer.TryWrite(0UL));
        Assert.Equal(0u, writer.BytesWritten);
        Assert.True(writer.TryWrite(0x0102_0304U));
        Assert.Equal(1, writer.Write(new byte[] { 9, 9, 9 }));
        Assert.Equal(5u, writer.BytesWritten);
        Assert.Equal(0, writer.Write(new byte[] { 1 }));
    }

    [Fact]
    public void GetSpanAdvanceAndSkip_CountOnlyWhatWasAdvanced()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Writable(4), DriverBuffer.Writable(4));
        var chain = h.Pop();
        var writer = chain.CreateWriter();

        var span = writer.GetSpan(10);
        Assert.Equal(4, span.Length); // bounded by the segment
        span.Fill(0x11);
        Assert.Equal(0u, writer.BytesWritten);
        writer.Advance(4);
        Assert.Equal(2u, writer.Skip(2));
        writer.GetSpan(2).Fill(0x22);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var w = chain.CreateWriter();
            w.Advance(5); // past the first segment's span
        });
        writer.Advance(2);
        Assert.Equal(8u, writer.BytesWritten);
        h.Device.AddUsed(chain, writer.BytesWritten);

        var written = h.Driver.ReadWritten(h.TakeUsed());
        Assert.Equal(new byte[] { 0x11, 0x11, 0x11, 0x11, DriverQueue.Poison, DriverQueue.Poison, 0x22, 0x22 }, written);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.PackedAndEventIdx), MemberType = typeof(RingConfigs))]
    public void ReadWrite_BuffersCrossingFromOneRegionIntoTheNext_SeeOneContiguousBuffer(bool packed, bool indirect)
    {
        // Three adjacent regions; the readable buffer crosses the first boundary, the last
        // writable one the second.
        using var memory = SharedGuestMemory.Create(0x10000);
        memory.AddRegion(0x10000, 0x10000);
        memory.AddRegion(0x20000, 0x10000);
        var driver = DriverQueue.Create(memory, 8, RingConfigs.Features(packed, indirect: indirect));
        var device = driver.CreateVirtqueue(memory.CreateBackendMemory());
        var request = ChainData.Pattern(64, seed: 11);
        var readable = new GuestAddress(0x10000 - 20);
        var writable = new GuestAddress(0x18000);
        var crossingWritable = new GuestAddress(0x20000 - 0x800);
        memory.Write(readable, request);
        driver.Offer([DriverBuffer.At(readable, 64, false), DriverBuffer.At(writable, 0x10, true), DriverBuffer.At(crossingWritable, 0x1000, true)], indirect);

        Assert.True(device.TryPop(out var chain));
        Assert.Equal(request, ChainData.ReadAll(chain));
        var reply = ChainData.Pattern(0x1010, seed: 2);
        var writer = chain.CreateWriter();
        Assert.True(writer.TryWrite(reply));
        device.AddUsed(chain, writer.BytesWritten);

        Assert.True(driver.TryTakeUsed(out var used));
        Assert.Equal(reply, driver.ReadWritten(used));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void ReaderAndWriter_InterleavedDirections_EachSeesOnlyItsOwnBuffers(bool packed)
    {
        using var h = QueueHarness.Create(packed);
        h.Device.RequireReadableFirst = false;
        h.Offer(false, DriverBuffer.Readable(new byte[] { 1, 2 }), DriverBuffer.Writable(2), DriverBuffer.Readable(new byte[] { 3 }), DriverBuffer.Writable(3));
        var chain = h.Pop();

        Assert.Equal(new byte[] { 1, 2, 3 }, ChainData.ReadAll(chain));
        var writer = chain.CreateWriter();
        Assert.True(writer.TryWrite(new byte[] { 7, 7, 8, 8, 8 }));
        h.Device.AddUsed(chain, writer.BytesWritten);
        Assert.Equal(new byte[] { 7, 7, 8, 8, 8 }, h.Driver.ReadWritten(h.TakeUsed()));
    }

    [Fact]
    public void TryWriteT_Struct_LandsLittleEndian()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Offer(false, DriverBuffer.Writable(3), DriverBuffer.Writable(13));
        var chain = h.Pop();
        var writer = chain.CreateWriter();
        var element = new UsedElement(0x0102_0304, 0x0506_0708);

        Assert.True(writer.TryWrite(element));
        h.Device.AddUsed(chain, writer.BytesWritten);

        var written = h.Driver.ReadWritten(h.TakeUsed());
        Assert.Equal(element, MemoryMarshal.Read<UsedElement>(written));
    }
}
