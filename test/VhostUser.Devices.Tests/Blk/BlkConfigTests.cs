// BlkConfigTests.cs — what the front end sees of the device: feature bits, the config space fields
// at their spec offsets (devices.md §3.2), the writeback byte the driver may switch (CONFIG_WCE),
// online resize through BACKEND_CONFIG_CHANGE_MSG, and the options' one-line errors.
using System.Buffers.Binary;
using VhostUser.Backend;
using VhostUser.Devices.Blk;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkConfigTests
{
    [Fact]
    public void GetConfig_Fields_AtTheirSpecOffsets()
    {
        using var bed = new BlkTestBed(size: 8 << 20, queues: 2, logicalBlockSize: 4096, physicalBlockSize: 16384);

        var c = bed.Frontend.GetConfig(0, BlkConfig.Size);

        Assert.Equal((ulong)(8 << 20) / 512, BinaryPrimitives.ReadUInt64LittleEndian(c));     // capacity
        Assert.Equal(BlkConfig.SizeMax, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(8)));
        Assert.Equal(254u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(12)));             // seg_max: queue size 256 - 2
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(20)));            // blk_size
        Assert.Equal(2, c[24]);                                                                 // physical_block_exp: 16K = 4K << 2
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(26)));                 // min_io_size in blocks
        Assert.Equal(1, c[32]);                                                                 // writeback
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(34)));                 // num_queues
        Assert.Equal(0x3F_FFF8u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(36)));        // max_discard_sectors: QEMU's ~2 GiB in whole 4K blocks
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(40)));                // max_discard_seg
        Assert.Equal(32u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(44)));               // discard alignment: 16K in sectors
        Assert.Equal(0x3F_FFF8u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(48)));        // max_write_zeroes_sectors
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(52)));
        Assert.Equal(1, c[56]);                                                                 // write_zeroes_may_unmap
    }

    [Fact]
    public void Features_ReadWriteAndReadOnly_OfferWhatEachServes()
    {
        using var rw = new BlkTestBed();
        using var ro = new BlkTestBed(readOnly: true);

        var writable = rw.Frontend.GetFeatures();
        var readOnly = ro.Frontend.GetFeatures();

        foreach (var bit in new[] { BlkFeatures.Flush, BlkFeatures.ConfigWce, BlkFeatures.BlkSize, BlkFeatures.Topology, BlkFeatures.SegMax, BlkFeatures.SizeMax, BlkFeatures.Mq })
        {
            Assert.True((writable & bit) != 0 && (readOnly & bit) != 0, $"{bit} missing");
        }
        Assert.Equal(BlkFeatures.Discard | BlkFeatures.WriteZeroes, writable & (BlkFeatures.Discard | BlkFeatures.WriteZeroes | BlkFeatures.ReadOnly));
        Assert.Equal(BlkFeatures.ReadOnly, readOnly & (BlkFeatures.Discard | BlkFeatures.WriteZeroes | BlkFeatures.ReadOnly));
        Assert.True((rw.Frontend.GetProtocolFeatures() & (ProtocolFeatures.Config | ProtocolFeatures.InflightShmfd | ProtocolFeatures.Mq)) != 0);
    }

    [Fact]
    public void SetConfig_Writeback_SwitchesTheCacheModeAndOtherFieldsAreRefused()
    {
        using var bed = new BlkTestBed();
        Assert.False(bed.Device.WriteThrough);

        bed.Frontend.SetConfig(BlkConfig.WritebackOffset, [0]);

        Assert.True(bed.Device.WriteThrough);
        Assert.Equal(0, bed.Frontend.GetConfig(BlkConfig.WritebackOffset, 1)[0]);
        Assert.Equal(BlkStatus.Ok, bed.Write(0, new byte[4096])); // written with RWF_DSYNC now
        Assert.Throws<ProtocolException>(() => bed.Frontend.SetConfig(0, new byte[8]));
        Assert.Throws<ProtocolException>(() => bed.Frontend.SetConfig(BlkConfig.WritebackOffset, [2]));
    }

    [Fact]
    public void Resize_ImageGrew_CapacityChangesAndFrontEndIsTold()
    {
        using var bed = new BlkTestBed(size: 1 << 20);
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        using var channel = frontendEnd;
        channel.SetTimeout(BlkTestBed.Timeout);
        bed.Frontend.SetBackendReqFd(backendEnd);
        backendEnd.Dispose();
        using (var image = File.OpenWrite(bed.ImagePath))
        {
            image.SetLength(4 << 20);
        }

        bed.Device.Resize();

        var header = new byte[MessageHeader.WireSize];
        Assert.Equal(header.Length, channel.Receive(header, null));
        Assert.Equal((uint)BackendRequest.ConfigChangeMsg, BinaryPrimitives.ReadUInt32LittleEndian(header));
        Assert.Equal((ulong)(4 << 20) / 512, BinaryPrimitives.ReadUInt64LittleEndian(bed.Frontend.GetConfig(0, 8)));
        var data = BlkTestBed.Pattern(4096, 9);
        Assert.Equal(BlkStatus.Ok, bed.Write((3 << 20) / 512, data)); // the new space is usable
        Assert.Equal(data, bed.Read((3 << 20) / 512, 4096).Data);
    }

    [Fact]
    public void Resize_SizeUnchanged_SendsNothing()
    {
        using var bed = new BlkTestBed();
        long before = bed.Device.Config.CapacitySectors;

        bed.Device.Resize();

        Assert.Equal(before, bed.Device.Config.CapacitySectors);
    }

    [Theory]
    [InlineData("--blk-file", null, "exactly one of")]
    [InlineData("--null", "1000", "multiple of 512")]
    [InlineData("--null", "12Q", "size such as")]
    [InlineData("--logical-block-size", "768", "512, 1024, 2048 or 4096")]
    [InlineData("--physical-block-size", "256", "power of two")]
    [InlineData("--num-queues", "0", "1 to 64")]
    [InlineData("--queue-size", "100", "power of two")]
    [InlineData("--poll-us", "-1", "0 to 1000000")]
    [InlineData("--io-engine", "aio", "uring or threads")]
    [InlineData("--serial", "an-overly-long-serial-string", "at most 20 bytes")]
    [InlineData("--blk-file", "/nonexistent/disk.img", "does not exist")]
    [InlineData("--workers", "2", "1 to --num-queues")]
    public void Create_BadOption_ThrowsAMessageThatSaysWhatToFix(string option, string? value, string expected)
    {
        string? path = "/dev/null";
        string? nullSize = null;
        int logical = 512, queues = 1, queueSize = 128, poll = 0;
        int? physical = null;
        string engine = "uring";
        string? serial = null;
        int? workers = null;
        switch (option)
        {
            case "--blk-file": path = value; break;
            case "--null": (path, nullSize) = (null, value); break;
            case "--logical-block-size": logical = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            case "--physical-block-size": physical = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            case "--num-queues": queues = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            case "--queue-size": queueSize = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            case "--poll-us": poll = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            case "--io-engine": engine = value!; break;
            case "--workers": workers = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture); break;
            default: serial = value; break;
        }

        var e = Assert.Throws<DaemonOptionsException>(() =>
            BlkOptions.Create(path, nullSize, false, false, serial, logical, physical, queues, queueSize, poll, engine, 2, workers));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workers_Default_OnePerQueueCappedAtTheUsableCpus()
    {
        var options = BlkOptions.Create("/dev/null", null, false, false, null, 512, null, 64, 128, 0, "uring", 2);

        Assert.Equal(Math.Min(64, Environment.ProcessorCount), options.Workers);
    }

    [Fact]
    public void WorkerFor_FourQueuesOnThreeWorkers_QueueModuloWorkers()
    {
        var image = Path.GetTempFileName();
        try
        {
            using var device = new BlkDevice(BlkOptions.Create(image, null, false, false, null, 512, null, 4, 128, 0, "uring", 2, workers: 3));

            Assert.Equal(new[] { 0, 1, 2, 0 }, Enumerable.Range(0, 4).Select(device.WorkerFor));
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64K", 65536L)]
    [InlineData("512M", 536870912L)]
    [InlineData("2g", 2147483648L)]
    public void ParseSize_Units_AreBinary(string text, long expected)
    {
        Assert.Equal(expected, BlkOptions.ParseSize(text, "--null"));
    }
}
