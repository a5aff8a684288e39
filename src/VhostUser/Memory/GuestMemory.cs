// GuestMemory.cs — an immutable set of guest RAM regions and every bounds-checked access to them.
// The back end swaps whole snapshots on SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG with the workers
// paused (design README 1.5), so a snapshot never changes under a reader.
//
// Every guest address and length is checked here before a byte is touched: a span never crosses a
// region end, and ranges that continue into an adjacent region are handled chunk by chunk
// (vhost-user rst "Memory access": a buffer may span two regions).
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Memory;

/// <summary>An immutable guest memory map.</summary>
public sealed class GuestMemory
{
    private readonly GuestRegion[] _regions; // sorted by guest-physical address

    /// <summary>A memory map with no regions.</summary>
    public static GuestMemory Empty { get; } = new([]);

    private GuestMemory(GuestRegion[] sortedRegions) => _regions = sortedRegions;

    /// <summary>Builds a map; throws <see cref="GuestMemoryException"/> if two regions overlap.</summary>
    public static GuestMemory Create(IEnumerable<GuestRegion> regions)
    {
        var sorted = regions.OrderBy(r => r.GuestPhysicalAddress).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            for (int j = i + 1; j < sorted.Length; j++)
            {
                if (sorted[i].Overlaps(sorted[j]))
                {
                    throw new GuestMemoryException(GuestMemoryError.RegionOverlap,
                        $"memory region {sorted[j]} overlaps {sorted[i]}");
                }
            }
        }
        return new GuestMemory(sorted);
    }

    /// <summary>The regions, sorted by guest-physical address.</summary>
    public IReadOnlyList<GuestRegion> Regions => _regions;

    /// <summary>Sum of the region sizes.</summary>
    public ulong TotalSize => _regions.Aggregate(0UL, (sum, r) => sum + r.Size);

    /// <summary>Returns a map with <paramref name="region"/> added (ADD_MEM_REG).</summary>
    public GuestMemory Add(GuestRegion region) => Create(_regions.Append(region));

    /// <summary>
    /// Returns a map without the region matching guest address, front-end address and size
    /// (REM_MEM_REG matches on those three and ignores mmap_offset).
    /// </summary>
    public GuestMemory Remove(ulong guestPhysicalAddress, ulong size, ulong userAddress, out GuestRegion removed)
    {
        int index = Array.FindIndex(_regions, r =>
            r.GuestPhysicalAddress == guestPhysicalAddress && r.Size == size && r.UserAddress == userAddress);
        if (index < 0)
        {
            throw new GuestMemoryException(GuestMemoryError.RegionNotFound,
                $"no region at gpa 0x{guestPhysicalAddress:x} size 0x{size:x} uaddr 0x{userAddress:x}");
        }
        removed = _regions[index];
        var rest = new GuestRegion[_regions.Length - 1];
        Array.Copy(_regions, 0, rest, 0, index);
        Array.Copy(_regions, index + 1, rest, index, rest.Length - index);
        return new GuestMemory(rest);
    }

    /// <summary>
    /// Keeps every region of this snapshot mapped until the lease is disposed, even if the front
    /// end replaces the memory table meanwhile: for I/O threads that use a chain's buffers outside
    /// the queue worker. Take it on the worker (where the snapshot is current), dispose it anywhere.
    /// </summary>
    public GuestMemoryLease Lease() => new(this);

    /// <summary>Span over [address, address+length) if it lies inside one region.</summary>
    public bool TryGetSpan(GuestAddress address, int length, out Span<byte> span)
    {
        int index = FindRegion(address.Value);
        if (index >= 0 && length >= 0)
        {
            var region = _regions[index];
            ulong offset = address.Value - region.GuestPhysicalAddress;
            if ((ulong)length <= region.Size - offset)
            {
                span = region.Slice(offset, length);
                return true;
            }
        }
        span = default;
        return false;
    }

    /// <summary>
    /// Finds the region holding all of [address, address+length) and the offset in it; used by
    /// virtqueues to keep their ring areas resolved between memory-table changes.
    /// </summary>
    public bool TryResolve(GuestAddress address, int length, out GuestRegion region, out ulong offset)
    {
        int index = FindRegion(address.Value);
        if (index >= 0 && length >= 0)
        {
            region = _regions[index];
            offset = address.Value - region.GuestPhysicalAddress;
            if ((ulong)length <= region.Size - offset)
            {
                return true;
            }
        }
        region = null!;
        offset = 0;
        return false;
    }

    /// <summary>Span over [address, address+length) inside one region, or throws.</summary>
    public Span<byte> GetSpan(GuestAddress address, int length)
    {
        if (!TryGetSpan(address, length, out var span))
        {
            ThrowNotMapped(address.Value, (ulong)Math.Max(length, 0));
        }
        return span;
    }

    /// <summary>
    /// The longest contiguous span that starts at <paramref name="address"/>: at most
    /// <paramref name="length"/> bytes, at most int.MaxValue, and never past its region's end.
    /// Throws if <paramref name="address"/> is not mapped. Loop on it to walk a long or
    /// region-crossing range.
    /// </summary>
    public Span<byte> GetChunk(GuestAddress address, ulong length)
    {
        int index = FindRegion(address.Value);
        if (index < 0)
        {
            ThrowNotMapped(address.Value, length);
        }
        var region = _regions[index];
        ulong offset = address.Value - region.GuestPhysicalAddress;
        ulong available = Math.Min(Math.Min(region.Size - offset, length), int.MaxValue);
        return region.Slice(offset, (int)available);
    }

    /// <summary>True if every byte of [address, address+length) is mapped (adjacent regions allowed).</summary>
    public bool IsRangeMapped(GuestAddress address, ulong length)
    {
        if (length == 0)
        {
            return true;
        }
        if (!address.TryAdd(length - 1, out _))
        {
            return false;
        }
        ulong position = address.Value;
        ulong remaining = length;
        while (remaining > 0)
        {
            int index = FindRegion(position);
            if (index < 0)
            {
                return false;
            }
            var region = _regions[index];
            ulong inRegion = Math.Min(region.End - position, remaining);
            remaining -= inRegion;
            position += inRegion;
        }
        return true;
    }

    /// <summary>
    /// Appends the guest range [address, address+length) to <paramref name="iov"/> for vectored
    /// I/O, one entry per region it touches (adjacent regions allowed). The array leases each
    /// region's mapping, so the range stays mapped while the I/O runs even if this snapshot is
    /// replaced meanwhile. Returns false if part of the range is not mapped or the array is full
    /// (entries added before that stay; the caller clears the array).
    /// </summary>
    public bool TryAppendIoVectors(IoVectorArray iov, GuestAddress address, ulong length)
    {
        if (length > 0 && !address.TryAdd(length - 1, out _))
        {
            return false;
        }
        ulong position = address.Value;
        while (length > 0)
        {
            int index = FindRegion(position);
            if (index < 0)
            {
                return false;
            }
            var region = _regions[index];
            ulong inRegion = Math.Min(region.End - position, length);
            if (!region.TryAppendTo(iov, position - region.GuestPhysicalAddress, inRegion))
            {
                return false;
            }
            length -= inRegion;
            position += inRegion;
        }
        return true;
    }

    /// <summary>Copies guest bytes into <paramref name="destination"/> (may cross adjacent regions).</summary>
    public void Read(GuestAddress address, Span<byte> destination)
    {
        CheckRange(address, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            var chunk = GetChunk(address, (ulong)destination.Length);
            chunk.CopyTo(destination);
            destination = destination[chunk.Length..];
            address = new GuestAddress(address.Value + (ulong)chunk.Length);
        }
    }

    /// <summary>Copies <paramref name="source"/> into guest memory (may cross adjacent regions).</summary>
    public void Write(GuestAddress address, ReadOnlySpan<byte> source)
    {
        CheckRange(address, (ulong)source.Length);
        while (!source.IsEmpty)
        {
            var chunk = GetChunk(address, (ulong)source.Length);
            source[..chunk.Length].CopyTo(chunk);
            source = source[chunk.Length..];
            address = new GuestAddress(address.Value + (ulong)chunk.Length);
        }
    }

    /// <summary>Reads a copy of a little-endian wire struct from guest memory.</summary>
    public T Read<T>(GuestAddress address)
        where T : unmanaged
    {
        // Copy into the value's own bytes (no Unsafe class outside Unix/, design README 1.7).
        T value = default;
        var bytes = MemoryMarshal.AsBytes(new Span<T>(ref value));
        if (TryGetSpan(address, bytes.Length, out var span))
        {
            span[..bytes.Length].CopyTo(bytes);
        }
        else
        {
            Read(address, bytes);
        }
        return value;
    }

    /// <summary>Writes a wire struct into guest memory.</summary>
    public void Write<T>(GuestAddress address, in T value)
        where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
        if (TryGetSpan(address, bytes.Length, out var span))
        {
            bytes.CopyTo(span);
        }
        else
        {
            Write(address, bytes);
        }
    }

    /// <summary>
    /// Translates a front-end virtual address (SET_VRING_ADDR without GPA_ADDRESSES) to a guest
    /// address; the whole [userAddress, userAddress+length) must lie in one region.
    /// </summary>
    public bool TryTranslateUserAddress(ulong userAddress, ulong length, out GuestAddress address)
    {
        foreach (var region in _regions)
        {
            if (region.ContainsUserAddress(userAddress))
            {
                ulong offset = userAddress - region.UserAddress;
                if (length <= region.Size - offset)
                {
                    address = new GuestAddress(region.GuestPhysicalAddress + offset);
                    return true;
                }
                break;
            }
        }
        address = default;
        return false;
    }

    /// <summary>Index of the region holding <paramref name="gpa"/>, or -1.</summary>
    private int FindRegion(ulong gpa)
    {
        var regions = _regions;
        if (regions.Length <= 8)
        {
            for (int i = 0; i < regions.Length; i++)
            {
                if (regions[i].Contains(gpa))
                {
                    return i;
                }
            }
            return -1;
        }
        int lo = 0, hi = regions.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var region = regions[mid];
            if (gpa < region.GuestPhysicalAddress)
            {
                hi = mid - 1;
            }
            else if (gpa - region.GuestPhysicalAddress >= region.Size)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }
        return -1;
    }

    private void CheckRange(GuestAddress address, ulong length)
    {
        if (!IsRangeMapped(address, length))
        {
            ThrowNotMapped(address.Value, length);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowNotMapped(ulong address, ulong length)
    {
        var error = FindRegion(address) < 0 ? GuestMemoryError.AddressNotMapped : GuestMemoryError.RangeNotMapped;
        throw new GuestMemoryException(error,
            $"guest range [0x{address:x}, +0x{length:x}) is outside guest memory ({_regions.Length} regions)");
    }
}
