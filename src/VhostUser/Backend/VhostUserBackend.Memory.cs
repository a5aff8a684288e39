// VhostUserBackend.Memory.cs — the memory table: SET_MEM_TABLE, GET_MAX_MEM_SLOTS, ADD_MEM_REG,
// REM_MEM_REG (vhost-user-protocol.md §10). Each change builds a new immutable GuestMemory, hands
// it to every queue on its worker (a safe point between batches), and only then unmaps regions
// that left the table (design README 1.5).
using VhostUser.Memory;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    /// <summary>Memory slots offered with CONFIGURE_MEM_SLOTS (QEMU caps it at its own 512).</summary>
    public const int MaxMemorySlots = 509;

    private GuestMemory _memory = GuestMemory.Empty;

    private bool SetMemTable(ReceivedMessage m)
    {
        var payload = m.Payload;
        if (payload.Length < MemoryTableHeader.WireSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayloadSize, $"SET_MEM_TABLE payload is {payload.Length} bytes");
        }
        var header = System.Runtime.InteropServices.MemoryMarshal.Read<MemoryTableHeader>(payload);
        if (!header.IsValid() || payload.Length != MemoryTableHeader.WireSize + (int)header.RegionCount * MemoryRegion.WireSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayloadSize,
                $"SET_MEM_TABLE announces {header.RegionCount} regions in {payload.Length} bytes (at most {MemoryTableHeader.MaxRegions})");
        }
        m.Fds.Expect((int)header.RegionCount, m.Request);
        var regions = new List<GuestRegion>((int)header.RegionCount);
        try
        {
            for (int i = 0; i < header.RegionCount; i++)
            {
                var entry = System.Runtime.InteropServices.MemoryMarshal.Read<MemoryRegion>(
                    payload.Slice(MemoryTableHeader.WireSize + i * MemoryRegion.WireSize, MemoryRegion.WireSize));
                using var fd = m.Fds.Take(i);
                regions.Add(MapRegion(entry, fd));
            }
            ReplaceMemory(GuestMemory.Create(regions));
        }
        catch
        {
            foreach (var region in regions)
            {
                region.Dispose();
            }
            throw;
        }
        return false;
    }

    private bool GetMaxMemSlots(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _connection.Reply((uint)m.Request, new U64Payload(MaxMemorySlots));
        return true;
    }

    private bool AddMemReg(ReceivedMessage m)
    {
        var entry = m.Read<SingleMemoryRegion>().Region;
        m.Fds.Expect(1, m.Request);
        if (_memory.Regions.Count >= MaxMemorySlots)
        {
            throw new ProtocolException(ProtocolError.MemoryTableRejected, $"ADD_MEM_REG: all {MaxMemorySlots} memory slots are used");
        }
        GuestRegion region;
        using (var fd = m.Fds.Take(0))
        {
            region = MapRegion(entry, fd);
        }
        GuestMemory next;
        try
        {
            next = _memory.Add(region);
        }
        catch
        {
            region.Dispose();
            throw;
        }
        SwapMemory(next);
        return false;
    }

    private bool RemMemReg(ReceivedMessage m)
    {
        var entry = m.Read<SingleMemoryRegion>().Region;
        // QEMU's older code sent an fd with REM_MEM_REG; accept and close it (rst).
        if (m.Fds.Count > 1)
        {
            m.Fds.Expect(0, m.Request);
        }
        var next = _memory.Remove(entry.GuestPhysicalAddress, entry.MemorySize, entry.UserAddress, out var removed);
        SwapMemory(next);
        removed.Dispose();
        return false;
    }

    private static GuestRegion MapRegion(in MemoryRegion entry, Unix.FileDescriptor fd)
    {
        if (!entry.IsValid())
        {
            throw new ProtocolException(ProtocolError.InvalidPayload, $"invalid memory region {entry}");
        }
        // mmap succeeds past the end of the file, but the first touch of that tail raises SIGBUS
        // and kills the daemon: a region must lie inside its fd (as vm-memory's MappingPastEof).
        long fileSize = fd.GetFileSize();
        if ((ulong)fileSize < entry.MmapOffset + entry.MemorySize)
        {
            throw new ProtocolException(ProtocolError.MemoryTableRejected,
                $"memory region {entry} runs past the end of its {fileSize}-byte file");
        }
        return GuestRegion.Map(fd, entry.GuestPhysicalAddress, entry.MemorySize, entry.UserAddress, entry.MmapOffset);
    }

    /// <summary>Installs a whole new table and unmaps every old region.</summary>
    private void ReplaceMemory(GuestMemory next)
    {
        var old = _memory;
        SwapMemory(next);
        foreach (var region in old.Regions)
        {
            region.Dispose();
        }
    }

    /// <summary>Hands <paramref name="next"/> to every queue on its worker; returns when all have it.</summary>
    private void SwapMemory(GuestMemory next)
    {
        _memory = next;
        foreach (var queue in _queues)
        {
            queue.Worker.Invoke(() => queue.UpdateMemory(next));
        }
        Log.MemoryTable(_logger, next.Regions.Count, next.TotalSize >> 20);
    }

    private void DisposeMemory()
    {
        var old = _memory;
        SwapMemory(GuestMemory.Empty);
        foreach (var region in old.Regions)
        {
            region.Dispose();
        }
    }
}
