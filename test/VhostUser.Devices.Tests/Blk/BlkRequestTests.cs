// BlkRequestTests.cs — virtio-blk requests through the whole daemon (devices.md §3.3): data lands
// in the image and comes back bit-exact under every engine and ring kind; every bad request gets
// the status the spec asks for (IOERR, UNSUPP) and never breaks the queue.
using VhostUser.Devices.Blk;
using VhostUser.Frontend;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkRequestTests
{
    public static TheoryData<string, bool> EnginesAndRings => new()
    {
        { "uring", false }, { "uring", true }, { "threads", false }, { "threads", true },
    };

    [Theory]
    [MemberData(nameof(EnginesAndRings))]
    public void WriteThenRead_Pattern_LandsInImageAndReadsBackBitExact(string engine, bool packed)
    {
        using var bed = new BlkTestBed(packed: packed, engine: engine);
        var data = BlkTestBed.Pattern(8192, seed: 1);

        Assert.Equal(BlkStatus.Ok, bed.Write(24, data));
        var (status, back) = bed.Read(24, 8192);

        Assert.Equal(BlkStatus.Ok, status);
        Assert.Equal(data, back);
        Assert.Equal(data, bed.ReadImage(24 * 512, 8192));
    }

    [Fact]
    public void Read_ImageContents_AreWhatTheHostWrote()
    {
        using var bed = new BlkTestBed();
        var data = BlkTestBed.Pattern(4096, seed: 2);
        bed.WriteImage(1 << 19, data);

        var (status, back) = bed.Read((1 << 19) / 512, 4096);

        Assert.Equal(BlkStatus.Ok, status);
        Assert.Equal(data, back);
    }

    [Fact]
    public void Write_ScatteredBuffersAndHeaderSharingABuffer_AreOneContiguousWrite()
    {
        using var bed = new BlkTestBed();
        var data = BlkTestBed.Pattern(3 * 512, seed: 3);
        // The header and the first 512 data bytes in one descriptor, the rest split unevenly.
        var first = BlkTestBed.Header(BlkRequestType.Out, 8).Concat(data[..512]).ToArray();

        var written = bed.Submit(0, DriverBuffer.Readable(first), DriverBuffer.Readable(data.AsMemory(512, 188)), DriverBuffer.Readable(data.AsMemory(700)), DriverBuffer.Writable(1));

        Assert.Equal(BlkStatus.Ok, written[^1]);
        Assert.Equal(data, bed.ReadImage(8 * 512, data.Length));
    }

    [Fact]
    public void NullDisk_ReadReturnsZeroesAndWritesSucceed()
    {
        using var bed = new BlkTestBed(size: 1 << 30, nullDisk: true);

        Assert.Equal(BlkStatus.Ok, bed.Write(100, BlkTestBed.Pattern(4096, 4)));
        var (status, data) = bed.Read(100, 4096);

        Assert.Equal(BlkStatus.Ok, status);
        Assert.All(data, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    public void Flush_ReturnsOk(int pollUs)
    {
        using var bed = new BlkTestBed(pollUs: pollUs);

        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Flush));
        Assert.Equal(BlkStatus.Ok, bed.Write(0, new byte[512]));
    }

    [Fact]
    public void GetId_Serial_IsTwentyBytesNulPadded()
    {
        using var bed = new BlkTestBed(serial: "disk-7");

        var written = bed.Submit(0, DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.GetId, 0)), DriverBuffer.Writable(20), DriverBuffer.Writable(1));

        Assert.Equal(21, written.Length);
        Assert.Equal(BlkStatus.Ok, written[20]);
        Assert.Equal("disk-7"u8.ToArray().Concat(new byte[14]), written[..20]);
    }

    [Fact]
    public void DefaultSerial_DependsOnTheBackingPath()
    {
        string a = BlkOptions.DefaultSerial("/tmp/a.img");
        string b = BlkOptions.DefaultSerial("/tmp/b.img");

        Assert.NotEqual(a, b);
        Assert.Equal(a, BlkOptions.DefaultSerial("/tmp/../tmp/a.img"));
        Assert.Equal(20, a.Length);
    }

    [Fact]
    public void Discard_Range_PunchesTheImage()
    {
        using var bed = new BlkTestBed();
        bed.WriteImage(0, Enumerable.Repeat((byte)0xAB, 64 * 1024).ToArray());

        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(16, 32, 0)));

        var image = bed.ReadImage(0, 64 * 1024);
        Assert.All(image[(16 * 512)..(48 * 512)], b => Assert.Equal(0, b));
        Assert.Equal(0xAB, image[16 * 512 - 1]);
        Assert.Equal(0xAB, image[48 * 512]);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(BlkDiscardSegment.FlagUnmap)]
    public void WriteZeroes_Range_ReadsBackZeroes(uint flags)
    {
        using var bed = new BlkTestBed();
        bed.WriteImage(0, Enumerable.Repeat((byte)0xCD, 64 * 1024).ToArray());

        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(8, 8, flags)));

        var (status, data) = bed.Read(0, 64 * 1024);
        Assert.Equal(BlkStatus.Ok, status);
        Assert.All(data[(8 * 512)..(16 * 512)], b => Assert.Equal(0, b));
        Assert.Equal(0xCD, data[8 * 512 - 1]);
        Assert.Equal(0xCD, data[16 * 512]);
    }

    public static TheoryData<string, byte> BadRequests => new()
    {
        { "read past the end", BlkStatus.IoError },
        { "read straddling the end", BlkStatus.IoError },
        { "write past the end", BlkStatus.IoError },
        { "data not a multiple of 512", BlkStatus.IoError },
        { "unknown type", BlkStatus.Unsupported },
        { "legacy SCSI command", BlkStatus.Unsupported },
        { "GET_LIFETIME", BlkStatus.Unsupported },
        { "header cut short", BlkStatus.IoError },
        { "discard with UNMAP", BlkStatus.Unsupported },
        { "discard with a reserved flag", BlkStatus.Unsupported },
        { "write zeroes with a reserved flag", BlkStatus.Unsupported },
        { "discard with two segments", BlkStatus.Unsupported },
        { "discard of a partial segment", BlkStatus.IoError },
        { "discard past the end", BlkStatus.IoError },
        { "discard above max_discard_sectors", BlkStatus.IoError },
        { "read into a device-readable buffer", BlkStatus.IoError },
        { "write from a device-writable buffer", BlkStatus.IoError },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Request_Invalid_GetsItsStatusAndTheQueueGoesOn(string what, byte expected)
    {
        using var bed = new BlkTestBed(size: 1 << 20);
        const ulong Sectors = (1 << 20) / 512;
        byte status = what switch
        {
            "read past the end" => bed.Read(Sectors, 512).Status,
            "read straddling the end" => bed.Read(Sectors - 1, 1024).Status,
            "write past the end" => bed.Write(Sectors, new byte[512]),
            "data not a multiple of 512" => bed.Write(0, new byte[513]),
            "unknown type" => bed.Simple(99),
            "legacy SCSI command" => bed.Simple(2),
            "GET_LIFETIME" => bed.Simple(10),
            "header cut short" => bed.Submit(0, DriverBuffer.Readable(new byte[8]), DriverBuffer.Writable(1))[^1],
            "discard with UNMAP" => bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(0, 8, 1)),
            "discard with a reserved flag" => bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(0, 8, 4)),
            "write zeroes with a reserved flag" => bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(0, 8, 2)),
            "discard with two segments" => bed.Simple(BlkRequestType.Discard, payload: [.. BlkTestBed.Segment(0, 8, 0), .. BlkTestBed.Segment(16, 8, 0)]),
            "discard of a partial segment" => bed.Simple(BlkRequestType.Discard, payload: new byte[12]),
            "discard past the end" => bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(Sectors - 4, 8, 0)),
            "read into a device-readable buffer" => bed.Submit(0, DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.In, 0)),
                DriverBuffer.Readable(new byte[512]), DriverBuffer.Writable(1))[^1],
            "write from a device-writable buffer" => bed.Submit(0, DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.Out, 0)),
                DriverBuffer.Writable(512), DriverBuffer.Writable(1))[^1],
            _ => bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(0, bed.Device.Config.MaxDiscardSectors + 1, 0)),
        };

        Assert.Equal(expected, status);
        var after = bed.Read(0, 512); // the queue still works
        Assert.Equal(BlkStatus.Ok, after.Status);
        Assert.Equal(new byte[512], after.Data);
    }

    [Fact]
    public void Request_NoWritableByte_ReturnedWithNothingWrittenAndQueueGoesOn()
    {
        using var bed = new BlkTestBed();

        var written = bed.Submit(0, DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.In, 0)));

        Assert.Empty(written);
        Assert.Equal(BlkStatus.Ok, bed.Read(0, 512).Status);
    }

    [Theory]
    [InlineData(8u, 4096u, BlkStatus.Ok)]
    [InlineData(4u, 4096u, BlkStatus.IoError)]   // sector not on a 4 KiB block
    [InlineData(8u, 2048u, BlkStatus.IoError)]   // length not whole blocks
    public void Read_LogicalBlockSize4096_RequiresWholeAlignedBlocks(uint sector, uint length, byte expected)
    {
        using var bed = new BlkTestBed(logicalBlockSize: 4096);

        Assert.Equal(expected, bed.Read(sector, length).Status);
    }

    [Fact]
    public void ReadOnly_WritesDiscardsAndZeroesFailReadsWork()
    {
        using var bed = new BlkTestBed(readOnly: true);

        Assert.Equal(BlkStatus.IoError, bed.Write(0, new byte[512]));
        Assert.Equal(BlkStatus.IoError, bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(0, 8, 0)));
        Assert.Equal(BlkStatus.IoError, bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(0, 8, 0)));
        Assert.Equal(BlkStatus.Ok, bed.Read(0, 4096).Status);
        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Flush));
    }

    [Fact]
    public void Direct_UnalignedGuestBuffer_StillReadsAndWritesCorrectly()
    {
        using var bed = new BlkTestBed(direct: true);
        var data = BlkTestBed.Pattern(4096, seed: 5);
        // 3 + 4093 bytes: the kernel refuses these for O_DIRECT; the request is redone buffered.
        var header = BlkTestBed.Header(BlkRequestType.Out, 16);

        var written = bed.Submit(0, DriverBuffer.Readable(header), DriverBuffer.Readable(data.AsMemory(0, 3)), DriverBuffer.Readable(data.AsMemory(3)), DriverBuffer.Writable(1));
        var (status, back) = bed.Read(16, 4096);

        Assert.Equal(BlkStatus.Ok, written[^1]);
        Assert.Equal(BlkStatus.Ok, status);
        Assert.Equal(data, back);
        Assert.Equal(data, bed.ReadImage(16 * 512, 4096));
    }

    [Theory]
    [InlineData("uring")]
    [InlineData("threads")]
    public void Poll_TwoQueuesSharingAWorker_BothServedWhilePolling(string engine)
    {
        using var bed = new BlkTestBed(queues: 2, workers: 1, pollUs: 2000, engine: engine);
        for (int i = 0; i < 20; i++)
        {
            int queue = i % 2;
            var data = BlkTestBed.Pattern(4096, i);
            Assert.Equal(BlkStatus.Ok, bed.Write((ulong)i * 8, data, queue));
            var (status, back) = bed.Read((ulong)i * 8, 4096, 1 - queue);
            Assert.Equal(BlkStatus.Ok, status);
            Assert.Equal(data, back);
        }
    }

    [Fact]
    public void Multiqueue_FourQueues_EachServesRequests()
    {
        using var bed = new BlkTestBed(queues: 4);
        for (int q = 0; q < 4; q++)
        {
            Assert.Equal(BlkStatus.Ok, bed.Write((ulong)q * 8, BlkTestBed.Pattern(4096, q), queue: q));
        }
        for (int q = 0; q < 4; q++)
        {
            var (status, data) = bed.Read((ulong)q * 8, 4096, queue: (q + 1) % 4);
            Assert.Equal(BlkStatus.Ok, status);
            Assert.Equal(BlkTestBed.Pattern(4096, q), data);
        }
    }
}
