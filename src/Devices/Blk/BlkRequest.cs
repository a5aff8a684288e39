// BlkRequest.cs — one virtio-blk request (virtio spec 5.2.6; devices.md §3.3), parsed and checked
// from a DescriptorChain and nothing of vhost-user: the 16-byte header is copied out of the chain
// and validated, the data part becomes an iovec array straight over guest memory (no copy), and
// a request that is wrong gets its virtio status here — IOERR for a bad range, alignment or a
// write to a read-only disk, UNSUPP for an unknown type, bad flags or too many segments. GET_ID is
// answered here too; everything else leaves an I/O for the engine.
using System.Text;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Blk;

/// <summary>What a parsed request needs from the engine.</summary>
internal enum BlkOperation : byte
{
    /// <summary>Nothing: the status is decided.</summary>
    None,
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
}

/// <summary>One request slot of a queue: the chain, its iovecs and the I/O it needs.</summary>
internal sealed class BlkRequest(int tag) : IDisposable
{
    /// <summary>Largest data transfer accepted (seg_max × size_max is below it; io_uring results are 32-bit).</summary>
    public const long MaxTransfer = 1L << 30;

    /// <summary>The chain could not even take a status byte: complete it with nothing written.</summary>
    public const int Malformed = -2;

    /// <summary>The request needs I/O (see <see cref="Operation"/>).</summary>
    public const int NeedsIo = -1;

    public int Tag { get; } = tag;

    public IoVectorArray Vectors { get; } = new();

    public DescriptorChain Chain { get; set; }

    public BlkOperation Operation { get; private set; }

    /// <summary>Byte offset in the backing.</summary>
    public long Offset { get; set; }

    /// <summary>Bytes to transfer, or to discard / zero.</summary>
    public long Length { get; set; }

    /// <summary>WRITE_ZEROES with UNMAP: the range may be deallocated.</summary>
    public bool Unmap { get; private set; }

    /// <summary>Engine state: which backing file (0 primary, 1 buffered fallback) and fallocate mode.</summary>
    public int File { get; set; }

    public int AllocateMode { get; set; }

    /// <summary>The data part is done and an fdatasync makes it durable before the status (write-through).</summary>
    public bool Syncing { get; set; }

    /// <summary>Write-zeroes through zero buffers (no fallocate): bytes still to write.</summary>
    public long ZeroesLeft { get; set; }

    /// <summary>
    /// Parses <see cref="Chain"/>. Returns a status (0..2) when the request is decided without
    /// I/O, <see cref="NeedsIo"/>, or <see cref="Malformed"/>.
    /// </summary>
    public int Parse(BlkConfig config, bool readOnly, ReadOnlySpan<byte> serial)
    {
        Operation = BlkOperation.None;
        Vectors.Clear();
        var chain = Chain;
        if (chain.WritableLength < 1)
        {
            return Malformed; // no room for the status byte (spec 5.2.6: the last byte is the status)
        }
        var reader = chain.CreateReader();
        if (!reader.TryRead(out BlkRequestHeader header))
        {
            return BlkStatus.IoError;
        }
        return header.Type switch
        {
            BlkRequestType.In => reader.Remaining != 0 && chain.WritableLength == 1
                ? BlkStatus.IoError // the data buffer is device-readable: nothing could be read into it
                : Transfer(BlkOperation.Read, header.Sector, chain.WritableLength - 1L, config),
            BlkRequestType.Out => readOnly ? BlkStatus.IoError
                : reader.Remaining == 0 && chain.WritableLength > 1
                    ? BlkStatus.IoError // the data buffer is device-writable: nothing to write from it
                    : Transfer(BlkOperation.Write, header.Sector, reader.Remaining, config),
            BlkRequestType.Flush => Decide(BlkOperation.Flush),
            BlkRequestType.GetId => WriteId(serial),
            BlkRequestType.Discard => readOnly ? BlkStatus.IoError : Segment(BlkOperation.Discard, ref reader, config),
            BlkRequestType.WriteZeroes => readOnly ? BlkStatus.IoError : Segment(BlkOperation.WriteZeroes, ref reader, config),
            _ => BlkStatus.Unsupported,
        };
    }

    /// <summary>Writes the status byte at the end of the writable part; returns the used length.</summary>
    public uint WriteStatus(byte status)
    {
        var writer = Chain.CreateWriter();
        writer.Skip(Chain.WritableLength - 1);
        writer.TryWrite(new ReadOnlySpan<byte>(in status));
        return writer.BytesWritten;
    }

    public void Dispose() => Vectors.Dispose();

    private int Decide(BlkOperation operation)
    {
        Operation = operation;
        return NeedsIo;
    }

    /// <summary>IN / OUT: the range check, then the data part as iovecs.</summary>
    private int Transfer(BlkOperation operation, ulong sector, long length, BlkConfig config)
    {
        if (!RangeIsValid(sector, length, config) || length > MaxTransfer)
        {
            return BlkStatus.IoError;
        }
        if (length == 0)
        {
            return BlkStatus.Ok;
        }
        if (!AppendData(operation == BlkOperation.Write, length))
        {
            return BlkStatus.IoError; // more pieces than one iovec array holds (region splits beyond seg_max)
        }
        Offset = (long)sector * 512;
        Length = length;
        File = 0;
        return Decide(operation);
    }

    /// <summary>DISCARD / WRITE_ZEROES: exactly one 16-byte segment with valid flags and range.</summary>
    private int Segment(BlkOperation operation, ref ChainReader reader, BlkConfig config)
    {
        uint bytes = reader.Remaining;
        if (bytes == 0 || bytes % BlkDiscardSegment.Size != 0)
        {
            return BlkStatus.IoError;
        }
        if (bytes / BlkDiscardSegment.Size > BlkConfig.MaxDiscardSegments)
        {
            return BlkStatus.Unsupported;
        }
        reader.TryRead(out BlkDiscardSegment segment);
        uint allowed = operation == BlkOperation.WriteZeroes ? BlkDiscardSegment.FlagUnmap : 0;
        if ((segment.Flags & ~allowed) != 0)
        {
            return BlkStatus.Unsupported; // UNMAP on DISCARD, or a reserved flag
        }
        long length = (long)segment.SectorCount * 512;
        if (segment.SectorCount > config.MaxDiscardSectors || !RangeIsValid(segment.Sector, length, config))
        {
            return BlkStatus.IoError;
        }
        if (length == 0)
        {
            return BlkStatus.Ok;
        }
        Offset = (long)segment.Sector * 512;
        Length = length;
        Unmap = (segment.Flags & BlkDiscardSegment.FlagUnmap) != 0;
        AllocateMode = operation == BlkOperation.Discard
            ? config.DiscardsBlockDevice ? BlockFile.DiscardRange : BlockFile.PunchHole
            : Unmap ? BlockFile.PunchHole : BlockFile.ZeroRange;
        return Decide(operation);
    }

    /// <summary>The sector and length are whole logical blocks and lie inside the capacity.</summary>
    private static bool RangeIsValid(ulong sector, long length, BlkConfig config)
    {
        ulong blockSectors = (ulong)config.LogicalBlockSize / 512;
        ulong capacity = (ulong)config.CapacitySectors;
        return length >= 0 && sector % blockSectors == 0 && length % config.LogicalBlockSize == 0
            && sector <= capacity && (ulong)length / 512 <= capacity - sector;
    }

    /// <summary>Adds the data part: readable bytes after the header (OUT) or writable bytes before the status (IN).</summary>
    private bool AppendData(bool readable, long length)
    {
        var memory = Chain.Queue.Memory;
        long skip = readable ? BlkRequestHeader.Size : 0;
        foreach (var segment in Chain.Segments)
        {
            if (segment.Writable == readable || length == 0)
            {
                continue;
            }
            long start = Math.Min(skip, segment.Length);
            skip -= start;
            long take = Math.Min(segment.Length - start, length);
            if (take > 0 && !memory.TryAppendIoVectors(Vectors, new GuestAddress(segment.Address + (ulong)start), (ulong)take))
            {
                return false;
            }
            length -= take;
        }
        return length == 0;
    }

    private int WriteId(ReadOnlySpan<byte> serial)
    {
        Span<byte> id = stackalloc byte[BlkOptions.SerialLength];
        id.Clear();
        serial.CopyTo(id);
        var writer = Chain.CreateWriter();
        int room = (int)Math.Min(Chain.WritableLength - 1, (uint)id.Length);
        writer.Write(id[..room]);
        return BlkStatus.Ok;
    }

    /// <summary>The serial as GET_ID bytes (UTF-8, not NUL-terminated when 20 bytes long).</summary>
    public static byte[] SerialBytes(string serial) => Encoding.UTF8.GetBytes(serial);
}
