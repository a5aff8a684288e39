// BlkTestBed.cs — a blk device over a temporary image file (or a null disk), served in process and
// driven the way the Linux virtio_blk driver does: a 16-byte readable header, readable (OUT) or
// writable (IN) data, a writable status byte, one chain per request.
using System.Buffers.Binary;
using VhostUser.Devices.Blk;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Blk;

internal sealed class BlkTestBed : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly InProcessDaemon _daemon;
    private readonly bool _ownsImage;
    private readonly List<DriverQueue> _queues = [];

    public BlkTestBed(long size = 1 << 20, bool packed = false, int queues = 1, string engine = "uring", bool readOnly = false,
        bool direct = false, int? logicalBlockSize = null, int? physicalBlockSize = null, string? serial = null, int pollUs = 0,
        bool nullDisk = false, int ringSize = 16, int? workers = null, string? backing = null)
    {
        _ownsImage = backing is null;
        ImagePath = backing ?? Path.Combine(Path.GetTempPath(), $"vhostd-blk-{Guid.NewGuid():N}.img");
        if (_ownsImage)
        {
            using var file = File.Create(ImagePath);
            file.SetLength(size);
        }
        Options = BlkOptions.Create(nullDisk ? null : ImagePath, nullDisk ? size.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            readOnly, direct, serial, logicalBlockSize, physicalBlockSize, queues, 256, pollUs, engine, 2, workers);
        Device = new BlkDevice(Options);
        _daemon = new InProcessDaemon(Device);
        var wanted = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc | VirtioFeatures.EventIdx | (packed ? VirtioFeatures.RingPacked : 0)
            | BlkFeatures.Flush | BlkFeatures.BlkSize | BlkFeatures.ConfigWce | BlkFeatures.Discard | BlkFeatures.WriteZeroes
            | BlkFeatures.ReadOnly | BlkFeatures.Mq | BlkFeatures.SegMax | BlkFeatures.SizeMax | BlkFeatures.Topology;
        Driver = new DriverHarness(_daemon.Frontend, wanted, memorySize: 16 << 20);
        for (int i = 0; i < queues; i++)
        {
            _queues.Add(Driver.StartQueue(i, ringSize));
        }
    }

    public string ImagePath { get; }

    public BlkOptions Options { get; }

    public BlkDevice Device { get; }

    public DriverHarness Driver { get; }

    public VhostUserFrontend Frontend => _daemon.Frontend;

    /// <summary>Bytes allocated so far on worker <paramref name="worker"/> (read on that thread).</summary>
    /// <summary>
    /// The worker's allocated-bytes counter. Read through Post and a flag the test thread spins
    /// on, not Invoke: Invoke's ManualResetEventSlim.Set runs on the worker after the read and, when
    /// the waiter had gone to sleep (a loaded machine), takes paths that may allocate — inside the
    /// measured window of the next read.
    /// </summary>
    public long WorkerAllocatedBytes(int worker = 0)
    {
        long bytes = 0;
        int done = 0;
        _daemon.Daemon.Context.Workers[worker].Post(() =>
        {
            Volatile.Write(ref bytes, GC.GetAllocatedBytesForCurrentThread());
            Volatile.Write(ref done, 1);
        });
        var spin = new SpinWait();
        while (Volatile.Read(ref done) == 0)
        {
            spin.SpinOnce();
        }
        return Volatile.Read(ref bytes);
    }

    public DriverQueue Queue(int index) => _queues[index];

    public static byte[] Header(uint type, ulong sector)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), sector);
        return header;
    }

    public static byte[] Segment(ulong sector, uint count, uint flags)
    {
        var segment = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(segment, sector);
        BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(8), count);
        BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(12), flags);
        return segment;
    }

    /// <summary>IN: reads <paramref name="length"/> bytes at <paramref name="sector"/>; returns status and data.</summary>
    public (byte Status, byte[] Data) Read(ulong sector, uint length, int queue = 0)
    {
        var written = Submit(queue, DriverBuffer.Readable(Header(BlkRequestType.In, sector)), DriverBuffer.Writable(length), DriverBuffer.Writable(1));
        Assert.Equal(length + 1, (uint)written.Length);
        return (written[^1], written[..^1]);
    }

    /// <summary>OUT: writes <paramref name="data"/> at <paramref name="sector"/>; returns the status.</summary>
    public byte Write(ulong sector, byte[] data, int queue = 0) =>
        Status(Submit(queue, DriverBuffer.Readable(Header(BlkRequestType.Out, sector)), DriverBuffer.Readable(data), DriverBuffer.Writable(1)));

    /// <summary>A request of <paramref name="type"/> with an optional readable payload and a status byte.</summary>
    public byte Simple(uint type, ulong sector = 0, byte[]? payload = null, int queue = 0) =>
        Status(payload is null
            ? Submit(queue, DriverBuffer.Readable(Header(type, sector)), DriverBuffer.Writable(1))
            : Submit(queue, DriverBuffer.Readable(Header(type, sector)), DriverBuffer.Readable(payload), DriverBuffer.Writable(1)));

    /// <summary>Offers any chain on a queue, kicks, and returns the bytes the device wrote.</summary>
    public byte[] Submit(int queue, params DriverBuffer[] buffers)
    {
        var ring = _queues[queue];
        ushort id = ring.Offer(buffers);
        Driver.Kick(queue);
        var used = Driver.WaitUsed(queue, Timeout);
        Assert.Equal(id, (ushort)used.Id);
        return ring.ReadWritten(used);
    }

    public byte[] ReadImage(long offset, int length)
    {
        using var file = File.OpenRead(ImagePath);
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    public void WriteImage(long offset, byte[] data)
    {
        using var file = File.OpenWrite(ImagePath);
        file.Position = offset;
        file.Write(data);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public void Dispose()
    {
        Driver.Dispose();
        _daemon.Dispose();
        Device.Dispose();
        if (_ownsImage)
        {
            File.Delete(ImagePath);
        }
    }

    private static byte Status(byte[] written)
    {
        Assert.True(written.Length >= 1, "no status byte written");
        return written[^1];
    }
}
