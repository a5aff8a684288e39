// BlkRequests.cs — virtio-blk requests (virtio spec 5.2; devices.md §3.3): a 16-byte
// device-readable header (le32 type IN=0 / OUT=1, le32 reserved, le64 sector in 512-byte units),
// the data (device-writable for IN, readable for OUT), and a 1-byte device-writable status
// (0 = OK). Offsets are block-aligned, sequential or uniformly random over the capacity that
// GET_CONFIG reports (config offset 0, le64, in 512-byte sectors).
using System.Buffers.Binary;
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>virtio-blk request format: 4 KiB (or --block-size) reads or writes.</summary>
internal sealed class BlkRequests : RequestFormat
{
    private const uint TypeIn = 0;
    private const uint TypeOut = 1;
    private const int SectorSize = 512;

    private readonly byte[] _header = new byte[16];
    private readonly DriverBuffer[] _buffers;
    private readonly int _blockSize;
    private readonly bool _write;
    private readonly bool _random;
    private readonly Random _rng = new(12345);
    private long _blocks;
    private long _nextBlock;

    public BlkRequests(int blockSize, AccessPattern pattern)
    {
        _blockSize = blockSize;
        _write = pattern is AccessPattern.Write or AccessPattern.RandWrite;
        _random = pattern is AccessPattern.RandRead or AccessPattern.RandWrite;
        // The header's contents change per request; DriverQueue copies them into guest RAM at
        // Offer time, so one array serves every request.
        var data = _write ? DriverBuffer.Readable(Pattern(blockSize)) : DriverBuffer.Writable((uint)blockSize);
        _buffers = [DriverBuffer.Readable(_header), data, DriverBuffer.Writable(1)];
        BinaryPrimitives.WriteUInt32LittleEndian(_header, _write ? TypeOut : TypeIn);
    }

    /// <summary>
    /// VIRTIO_BLK_F_FLUSH (bit 9), which the Linux driver always negotiates. Without it a device
    /// must make every write durable before completing it (virtio spec 5.2.6.2; devices.md §3.3):
    /// a write-back device would be measured as a write-through one.
    /// </summary>
    public override VirtioFeatures DeviceFeatures => (VirtioFeatures)(1UL << 9);

    /// <summary>Bytes the device writes for a good request: the data of a read, and the status.</summary>
    private uint ExpectedUsedLength => (uint)(_write ? 1 : _blockSize + 1);

    /// <summary>Used lengths that differed from data + status (reported, not an error).</summary>
    public long UnexpectedLengths { get; private set; }

    public override string? Remarks => UnexpectedLengths == 0 ? null
        : $"{UnexpectedLengths} used lengths differed from the bytes written (data + status = {ExpectedUsedLength})";

    public override void Prepare(VhostUserFrontend frontend)
    {
        ulong sectors;
        try
        {
            sectors = BinaryPrimitives.ReadUInt64LittleEndian(frontend.GetConfig(0, 8));
        }
        catch (Protocol.ProtocolException e)
        {
            throw new BenchFailedException($"cannot read the blk capacity with GET_CONFIG: {e.Message}");
        }
        _blocks = (long)Math.Min(sectors * SectorSize / (ulong)_blockSize, long.MaxValue);
        if (_blocks == 0)
        {
            throw new BenchFailedException($"the blk device holds {sectors} sectors: less than one {_blockSize}-byte block");
        }
    }

    public override ushort Offer(DriverQueue queue, bool indirect)
    {
        long block = _random ? _rng.NextInt64(_blocks) : _nextBlock++ % _blocks;
        BinaryPrimitives.WriteUInt64LittleEndian(_header.AsSpan(8), (ulong)(block * (_blockSize / SectorSize)));
        return queue.Offer(_buffers, indirect);
    }

    public override long Complete(DriverQueue queue, UsedElement used)
    {
        var segments = queue.GetOfferedSegments((ushort)used.Id);
        byte status = queue.Memory.GetSpan(new GuestAddress(segments[^1].Address), 1)[0];
        if (used.Length != ExpectedUsedLength)
        {
            UnexpectedLengths++;
        }
        return status == 0 ? _blockSize : -1;
    }

    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 31 + 7);
        }
        return data;
    }
}
