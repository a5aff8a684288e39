// InflightQueue.cs — one queue's region of the inflight I/O tracking area (INFLIGHT_SHMFD;
// vhost-user-protocol.md §11): what the Virtqueue records there as it pops and completes chains,
// and what it reads back when a new back-end process starts the ring, so that chains popped by a
// back end that died are resubmitted, in the order they were fetched. Split rules are in
// InflightQueue.Split.cs, packed rules in InflightQueue.Packed.cs.
//
// Ownership: the area belongs to the connection (VhostUserBackend.Inflight.cs), which maps it;
// a Virtqueue borrows one region while its ring runs and drops it when the ring stops.
//
// Crash consistency: the front end keeps the area across our death, so every update is ordered
// as the rst prescribes — entry contents first, the field that makes them count last, with
// release stores (Volatile.Write) so neither compiler nor CPU moves a store past the one that
// publishes it. A killed process loses no store that was executed: the mapping is shared.
//
// Threading: used by the queue's worker while the ring runs, by nobody otherwise.
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Virtio;

/// <summary>What starting a ring found in its inflight region.</summary>
public enum InflightRecovery
{
    /// <summary>The region was never used (version 0): it was initialised, nothing to resubmit.</summary>
    Fresh,
    /// <summary>The region was written for another queue size: it was initialised again.</summary>
    Reinitialized,
    /// <summary>The region was valid: its in-flight chains are queued for resubmission.</summary>
    Recovered,
}

/// <summary>One queue's region of the inflight area.</summary>
public sealed partial class InflightQueue
{
    private readonly MappedRegion _mapping;
    private readonly ulong _offset;
    private ulong _counter = 1;
    private ulong[] _sortKeys = [];

    /// <summary>
    /// Borrows the region of <paramref name="capacity"/> entries at <paramref name="offset"/> in
    /// <paramref name="mapping"/>. Throws if it does not fit.
    /// </summary>
    public InflightQueue(MappedRegion mapping, ulong offset, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ulong size = (ulong)InflightLayout.QueueRegionSize(capacity);
        if (offset > mapping.Length || size > mapping.Length - offset || (offset & 63) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"a {size}-byte inflight region at 0x{offset:x} does not fit the 0x{mapping.Length:x}-byte area (or is not 64-byte aligned)");
        }
        _mapping = mapping;
        _offset = offset;
        Capacity = capacity;
    }

    /// <summary>Entries the region has room for (the queue size the front end announced).</summary>
    public int Capacity { get; }

    /// <summary>The fetch counter the next popped chain gets.</summary>
    public ulong NextCounter => _counter;

    /// <summary>The region's version field (0 until a ring started on it).</summary>
    public ushort ReadVersion() => ReadU16(Span(0, InflightLayout.SplitHeaderSize), InflightLayout.VersionOffset);

    private Span<byte> Span(int offset, int length) => _mapping.GetSpan(_offset + (ulong)offset, length);

    private void CheckSize(int size)
    {
        if (size > Capacity)
        {
            throw new VirtqueueException(VirtqueueError.InvalidInflightArea,
                $"the inflight region has room for {Capacity} entries, the ring has {size}");
        }
    }

    /// <summary>Sorts the first <paramref name="count"/> entries of <paramref name="items"/> by their fetch counter.</summary>
    private void SortByCounter(Span<ushort> items, int count)
    {
        _sortKeys.AsSpan(0, count).Sort(items[..count]);
    }

    private void EnsureSortKeys(int size)
    {
        if (_sortKeys.Length < size)
        {
            _sortKeys = new ulong[size];
        }
    }

    // Region fields are naturally aligned (the region is 64-byte aligned, offsets are multiples
    // of the field size), so these Volatile accesses are single untorn loads and stores.
    private static ushort ReadU16(Span<byte> s, int offset) => Volatile.Read(ref MemoryMarshal.Cast<byte, ushort>(s.Slice(offset, 2))[0]);

    private static void WriteU16(Span<byte> s, int offset, ushort value) => Volatile.Write(ref MemoryMarshal.Cast<byte, ushort>(s.Slice(offset, 2))[0], value);

    private static ulong ReadU64(Span<byte> s, int offset) => Volatile.Read(ref MemoryMarshal.Cast<byte, ulong>(s.Slice(offset, 8))[0]);

    private static void WriteU64(Span<byte> s, int offset, ulong value) => Volatile.Write(ref MemoryMarshal.Cast<byte, ulong>(s.Slice(offset, 8))[0], value);

    private static byte ReadU8(Span<byte> s, int offset) => Volatile.Read(ref s[offset]);

    private static void WriteU8(Span<byte> s, int offset, byte value) => Volatile.Write(ref s[offset], value);
}
