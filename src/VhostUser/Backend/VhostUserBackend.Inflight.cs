// VhostUserBackend.Inflight.cs — the inflight I/O tracking area (INFLIGHT_SHMFD;
// vhost-user-protocol.md §11): GET_INFLIGHT_FD allocates a zero-filled memfd for the queues the
// front end names and hands it over; the front end keeps it across our death and returns it
// with SET_INFLIGHT_FD on every (re)connect. Each ring that starts while an area is set borrows
// its queue's region (Virtqueue.Inflight.cs), so chains popped by a back end that died are
// resubmitted by the next one. A device opts in with ExtraProtocolFeatures.
//
// A device with crash-safe state (VirtioDevice.CrashSafeStateSize) gets a 64-byte block after the
// queue regions: u32 magic "VHDS", u16 version, u16 length, then the device's bytes. An area
// handed over with a valid block restores the device (a restarted daemon learns what the driver
// chose from the one that died); a fresh one (all zero, just made by GET_INFLIGHT_FD) gets the
// device's current state.
//
// Ownership: the connection owns the mapping of the area it was given last (the memfd itself
// stays with the front end). It is replaced only while every ring is stopped and unmapped when
// the session ends, after the rings stopped.
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    private const int StateBlockSize = 64;
    private const uint StateMagic = 0x53444856; // "VHDS" little-endian
    private const ushort StateVersion = 1;

    private MappedRegion? _inflightArea;
    private ulong _stateBlockOffset;
    private int _inflightQueueCount;
    private long _inflightStride;
    private int _inflightEntries;

    /// <summary>True while an inflight area is set: a lost connection leaves I/O to it.</summary>
    private bool HasInflightArea => _inflightArea is not null;

    private bool GetInflightFd(ReceivedMessage m)
    {
        ExpectNoFds(m);
        RequireInflightFeature(m.Request);
        var request = m.Read<InflightRegion>();
        CheckInflightGeometry(request.QueueCount, request.QueueSize, m.Request);
        // Room for the largest ring we accept, not just the announced queue_size (EntriesPerRegion).
        int entries = Math.Max(request.QueueSize, _device.MaxQueueSize);
        long size = InflightLayout.AreaSize(request.QueueCount, entries) + StateBlockBytes;
        using var fd = MemFd.Create("vhost-user-inflight", size); // zero-filled: version 0, "fresh"
        _connection.Reply((uint)m.Request, new InflightRegion((ulong)size, 0, request.QueueCount, request.QueueSize, 0), [fd]);
        Log.InflightAreaCreated(_logger, request.QueueCount, entries, size);
        return true;
    }

    private bool SetInflightFd(ReceivedMessage m)
    {
        RequireInflightFeature(m.Request);
        var region = m.Read<InflightRegion>();
        m.Fds.Expect(1, m.Request);
        CheckInflightGeometry(region.QueueCount, region.QueueSize, m.Request);
        long stride = region.MmapSize > long.MaxValue || region.MmapSize < (ulong)StateBlockBytes
            ? 0 : (long)((region.MmapSize - (ulong)StateBlockBytes) / region.QueueCount) & ~63L;
        int entries = InflightLayout.EntriesPerRegion(stride);
        if (entries < region.QueueSize || region.MmapOffset % (ulong)MappedRegion.PageSize != 0)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"SET_INFLIGHT_FD: {region.MmapSize} bytes at offset {region.MmapOffset} do not hold {region.QueueCount} queues of {region.QueueSize} (page-aligned offset needed)");
        }
        if (AnyRingStarted())
        {
            throw new ProtocolException(ProtocolError.InvalidState, "SET_INFLIGHT_FD while rings run");
        }
        MappedRegion mapping;
        using (var fd = m.Fds.Take(0))
        {
            mapping = MappedRegion.Map(fd, region.MmapSize, (long)region.MmapOffset);
        }
        _inflightArea?.Dispose();
        _inflightArea = mapping;
        _inflightQueueCount = region.QueueCount;
        _inflightStride = stride;
        _inflightEntries = entries;
        Log.InflightAreaSet(_logger, region.QueueCount, entries, region.MmapSize);
        if (StateBlockBytes > 0)
        {
            _stateBlockOffset = region.MmapSize - StateBlockSize;
            RestoreOrSaveCrashSafeState();
        }
        return false;
    }

    /// <summary>Bytes GET_INFLIGHT_FD adds for the device's crash-safe state.</summary>
    private int StateBlockBytes => _device.CrashSafeStateSize > 0 ? StateBlockSize : 0;

    private void RestoreOrSaveCrashSafeState()
    {
        var block = _inflightArea!.GetSpan(_stateBlockOffset, StateBlockSize);
        int size = _device.CrashSafeStateSize;
        uint magic = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block);
        ushort version = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(block[4..]);
        ushort length = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(block[6..]);
        if (magic == StateMagic && version == StateVersion && length == size)
        {
            _device.RestoreCrashSafeState(block.Slice(8, size));
            Log.CrashSafeStateRestored(_logger, size);
        }
        else
        {
            SaveCrashSafeState(); // fresh area (or one of another layout): start it with the current state
        }
    }

    /// <summary>Writes the device's state into the current area's block (DeviceContext.CrashSafeStateChanged).</summary>
    private void SaveCrashSafeState()
    {
        if (_inflightArea is null || StateBlockBytes == 0)
        {
            return;
        }
        var block = _inflightArea.GetSpan(_stateBlockOffset, StateBlockSize);
        int size = _device.CrashSafeStateSize;
        _device.SaveCrashSafeState(block.Slice(8, size));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(block[4..], StateVersion);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(block[6..], (ushort)size);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(block, StateMagic); // last: a block is valid once whole
    }

    /// <summary>
    /// The region ring <paramref name="index"/> of <paramref name="size"/> entries records into,
    /// if any. A ring larger than the region runs without tracking (and says so) rather than not
    /// at all.
    /// </summary>
    private InflightQueue? InflightFor(int index, int size)
    {
        if (_inflightArea is null || index >= _inflightQueueCount)
        {
            return null;
        }
        if (size > _inflightEntries)
        {
            Log.InflightAreaTooSmall(_logger, index, size, _inflightEntries);
            return null;
        }
        return new InflightQueue(_inflightArea, (ulong)(index * _inflightStride), _inflightEntries);
    }

    private void DisposeInflightArea()
    {
        _inflightArea?.Dispose();
        _inflightArea = null;
    }

    private void RequireInflightFeature(FrontendRequest request)
    {
        if (!HasProtocolFeature(ProtocolFeatures.InflightShmfd))
        {
            throw new ProtocolException(ProtocolError.FeatureNotNegotiated, $"{request} without INFLIGHT_SHMFD");
        }
    }

    private void CheckInflightGeometry(ushort queueCount, ushort queueSize, FrontendRequest request)
    {
        if (queueCount == 0 || queueCount > _queues.Length || queueSize == 0 || queueSize > _device.MaxQueueSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"{request}: {queueCount} queues of {queueSize} entries (the device has {_queues.Length} queues of at most {_device.MaxQueueSize})");
        }
    }
}
