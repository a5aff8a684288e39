// GuestRegion.cs — one region of the memory table: where it sits in guest-physical space, where
// the front end has it mapped (for SET_VRING_ADDR translation), and our own mapping of its fd.
// Owns the mapping; GuestMemory snapshots share regions, and the back end disposes a region
// once no snapshot in use refers to it (VhostUserBackend.Memory.cs).
using VhostUser.Unix;

namespace VhostUser.Memory;

/// <summary>A mapped guest RAM region.</summary>
public sealed class GuestRegion : IDisposable
{
    private readonly MappedRegion _mapping;
    private readonly ulong _mappingOffset;

    /// <summary>Wraps a mapping in which the region starts at <paramref name="mappingOffset"/>.</summary>
    public GuestRegion(ulong guestPhysicalAddress, ulong size, ulong userAddress, MappedRegion mapping, ulong mappingOffset)
    {
        if (size == 0 || guestPhysicalAddress + size < guestPhysicalAddress || userAddress + size < userAddress)
        {
            throw new GuestMemoryException(GuestMemoryError.InvalidRegion,
                $"region gpa 0x{guestPhysicalAddress:x} size 0x{size:x} uaddr 0x{userAddress:x} is empty or wraps");
        }
        if (mappingOffset > mapping.Length || mapping.Length - mappingOffset < size)
        {
            throw new GuestMemoryException(GuestMemoryError.InvalidRegion,
                $"region of 0x{size:x} bytes at offset 0x{mappingOffset:x} does not fit its 0x{mapping.Length:x}-byte mapping");
        }
        GuestPhysicalAddress = guestPhysicalAddress;
        Size = size;
        UserAddress = userAddress;
        _mapping = mapping;
        _mappingOffset = mappingOffset;
    }

    /// <summary>
    /// Maps <paramref name="fd"/> the way libvhost-user does: from file offset 0 through
    /// mmap_offset + size, so an mmap_offset need not be page (or huge page) aligned.
    /// Takes ownership of nothing: the fd may be closed after this returns.
    /// </summary>
    public static GuestRegion Map(FileDescriptor fd, ulong guestPhysicalAddress, ulong size, ulong userAddress, ulong mmapOffset)
    {
        if (size == 0 || mmapOffset + size < mmapOffset || mmapOffset + size > long.MaxValue)
        {
            throw new GuestMemoryException(GuestMemoryError.InvalidRegion,
                $"region size 0x{size:x} with mmap offset 0x{mmapOffset:x} is empty or too large");
        }
        var mapping = MappedRegion.Map(fd, mmapOffset + size);
        try
        {
            return new GuestRegion(guestPhysicalAddress, size, userAddress, mapping, mmapOffset);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>First guest-physical address.</summary>
    public ulong GuestPhysicalAddress { get; }

    /// <summary>Size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The front end's virtual address of the region start.</summary>
    public ulong UserAddress { get; }

    /// <summary>One past the last guest-physical address (no overflow: checked in the constructor).</summary>
    public ulong End => GuestPhysicalAddress + Size;

    /// <summary>True if <paramref name="gpa"/> lies in the region.</summary>
    public bool Contains(ulong gpa) => gpa >= GuestPhysicalAddress && gpa - GuestPhysicalAddress < Size;

    /// <summary>True if the front-end address lies in the region.</summary>
    public bool ContainsUserAddress(ulong uva) => uva >= UserAddress && uva - UserAddress < Size;

    /// <summary>Span at a region-relative offset; throws if it runs past the mapping.</summary>
    public Span<byte> Slice(ulong offset, int length) => _mapping.GetSpan(_mappingOffset + offset, length);

    /// <summary>
    /// Appends [offset, offset+length) of the region (region-relative) to <paramref name="iov"/>,
    /// which leases the mapping until it is cleared. False if the array is full.
    /// </summary>
    public bool TryAppendTo(IoVectorArray iov, ulong offset, ulong length)
    {
        if (offset > Size || length > Size - offset)
        {
            throw new GuestMemoryException(GuestMemoryError.RangeNotMapped,
                $"range [+0x{offset:x}, +0x{length:x}) is outside region {this}");
        }
        return iov.TryAdd(_mapping, _mappingOffset + offset, length);
    }

    /// <summary>True if the regions overlap in guest-physical or front-end address space.</summary>
    public bool Overlaps(GuestRegion other) =>
        GuestPhysicalAddress < other.End && other.GuestPhysicalAddress < End
        || UserAddress < other.UserAddress + other.Size && other.UserAddress < UserAddress + Size;

    /// <summary>
    /// Keeps the mapping alive past <see cref="Dispose"/> until <see cref="ReleaseLease"/>; throws
    /// <see cref="ObjectDisposedException"/> if it is already gone. See <see cref="GuestMemoryLease"/>.
    /// </summary>
    internal void AddLease()
    {
        bool added = false;
        _mapping.DangerousAddRef(ref added);
    }

    /// <summary>Ends a lease taken with <see cref="AddLease"/>; the last one unmaps a disposed region.</summary>
    internal void ReleaseLease() => _mapping.DangerousRelease();

    /// <inheritdoc />
    public void Dispose() => _mapping.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"[gpa 0x{GuestPhysicalAddress:x}..0x{End:x}) uaddr 0x{UserAddress:x}";
}
