// BlkConfig.cs — the virtio-blk config space (struct virtio_blk_config, devices.md §3.2) up to
// write_zeroes_may_unmap and its padding: 60 bytes. Two fields change at run time: capacity (the
// backing grew or shrank: online resize) and writeback (the driver switches the cache mode with
// CONFIG_WCE; kept for the daemon's lifetime and across its restart, as QEMU keeps its copy for
// the device's lifetime and never sends it again). Both are read by queue workers on every request and written by other threads, so
// they are single words accessed with Volatile.
using System.Buffers.Binary;

namespace VhostUser.Devices.Blk;

/// <summary>Config space contents and the limits requests are checked against.</summary>
internal sealed class BlkConfig
{
    /// <summary>Bytes served (QEMU asks for 57 with discard and write-zeroes on).</summary>
    public const int Size = 60;

    /// <summary>Offset of the writeback byte (the only field the driver may write).</summary>
    public const int WritebackOffset = 32;

    /// <summary>Largest segment (size_max).</summary>
    public const uint SizeMax = 1 << 20;

    /// <summary>Largest discard / write-zeroes range in 512-byte sectors before alignment (QEMU's limit, ~2 GiB).</summary>
    private const uint DiscardSectorLimit = 0x3F_FFFF;

    /// <summary>Segments per discard / write-zeroes request (QEMU also allows one).</summary>
    public const uint MaxDiscardSegments = 1;

    private long _capacitySectors;
    private int _writeback = 1;

    public BlkConfig(BlkOptions options, long capacityBytes)
    {
        LogicalBlockSize = options.LogicalBlockSize;
        PhysicalBlockSize = options.PhysicalBlockSize;
        QueueCount = options.QueueCount;
        SegMax = (uint)Math.Min(options.QueueSize, 1024) - 2;
        // Whole logical blocks: a driver that splits a big discard at this limit must get pieces
        // the block-alignment check accepts (0x3FFFFF sectors is not a multiple of 8 for 4 KiB blocks).
        uint blockSectors = (uint)LogicalBlockSize / 512;
        MaxDiscardSectors = DiscardSectorLimit / blockSectors * blockSectors;
        SetCapacity(capacityBytes);
    }

    public int LogicalBlockSize { get; }

    public int PhysicalBlockSize { get; }

    public int QueueCount { get; }

    /// <summary>DISCARD is a block-device discard (BLKDISCARD), not a hole punched in a file.</summary>
    public bool DiscardsBlockDevice { get; init; }

    /// <summary>Largest discard / write-zeroes range in 512-byte sectors: whole logical blocks.</summary>
    public uint MaxDiscardSectors { get; }

    /// <summary>Most data segments per request (seg_max): what one iovec array and one chain can hold.</summary>
    public uint SegMax { get; }

    /// <summary>Capacity in 512-byte sectors (whole logical blocks).</summary>
    public long CapacitySectors => Volatile.Read(ref _capacitySectors);

    /// <summary>True: write-back cache (writes may complete before they are durable; FLUSH makes them so).</summary>
    public bool WriteBack => Volatile.Read(ref _writeback) != 0;

    /// <summary>Sets the capacity from a size in bytes (rounded down to whole logical blocks). Returns true if it changed.</summary>
    public bool SetCapacity(long bytes)
    {
        long sectors = bytes / LogicalBlockSize * LogicalBlockSize / 512;
        return Interlocked.Exchange(ref _capacitySectors, sectors) != sectors;
    }

    /// <summary>Sets the cache mode (a restarted daemon learning what the driver chose before).</summary>
    public void SetWriteBack(bool writeBack) => Volatile.Write(ref _writeback, writeBack ? 1 : 0);

    /// <summary>Copies config bytes [offset, offset+destination.Length) (the caller keeps it inside <see cref="Size"/>).</summary>
    public void Read(int offset, Span<byte> destination)
    {
        Span<byte> c = stackalloc byte[Size];
        c.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(c, (ulong)CapacitySectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[8..], SizeMax);
        BinaryPrimitives.WriteUInt32LittleEndian(c[12..], SegMax);
        BinaryPrimitives.WriteUInt32LittleEndian(c[20..], (uint)LogicalBlockSize);
        c[24] = (byte)Math.Log2(PhysicalBlockSize / LogicalBlockSize);     // physical_block_exp
        c[25] = 0;                                                          // alignment_offset
        BinaryPrimitives.WriteUInt16LittleEndian(c[26..], (ushort)(PhysicalBlockSize / LogicalBlockSize)); // min_io_size
        BinaryPrimitives.WriteUInt32LittleEndian(c[28..], 0);              // opt_io_size
        c[WritebackOffset] = WriteBack ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(c[34..], (ushort)QueueCount);
        BinaryPrimitives.WriteUInt32LittleEndian(c[36..], MaxDiscardSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(c[40..], MaxDiscardSegments);
        BinaryPrimitives.WriteUInt32LittleEndian(c[44..], (uint)(PhysicalBlockSize / 512)); // discard_sector_alignment
        BinaryPrimitives.WriteUInt32LittleEndian(c[48..], MaxDiscardSectors);  // max_write_zeroes_sectors
        BinaryPrimitives.WriteUInt32LittleEndian(c[52..], MaxDiscardSegments); // max_write_zeroes_seg
        c[56] = 1;                                                            // write_zeroes_may_unmap
        c.Slice(offset, destination.Length).CopyTo(destination);
    }

    /// <summary>SET_CONFIG: only the writeback byte, 0 or 1 (CONFIG_WCE).</summary>
    public bool TryWrite(int offset, ReadOnlySpan<byte> source)
    {
        if (offset != WritebackOffset || source.Length != 1 || source[0] > 1)
        {
            return false;
        }
        Volatile.Write(ref _writeback, source[0]);
        return true;
    }
}
