// SharedRegion.cs — one region of the front end's guest RAM: the memfd that backs it, where it
// sits in guest-physical space, the front-end virtual address announced for it, and the front
// end's own mapping. It is exactly what one entry of SET_MEM_TABLE / ADD_MEM_REG describes
// (vhost-user-protocol.md, "Memory region description").
//
// Ownership: the region owns its memfd and its mapping; SharedGuestMemory disposes both when the
// region is removed or the memory is disposed. Sending the fd does not transfer ownership: the
// kernel duplicates it into the receiver.
using VhostUser.Memory;
using VhostUser.Unix;

namespace VhostUser.Frontend;

/// <summary>A memfd-backed region of the front end's guest RAM.</summary>
public sealed class SharedRegion : IDisposable
{
    private ulong _allocated; // bump pointer: bytes of the region handed out so far

    internal SharedRegion(FileDescriptor descriptor, GuestRegion mapping, ulong mmapOffset)
    {
        Descriptor = descriptor;
        Mapping = mapping;
        MmapOffset = mmapOffset;
    }

    /// <summary>The memfd to send with the memory table (owned by this region).</summary>
    public FileDescriptor Descriptor { get; }

    /// <summary>First guest-physical address (memory region description: guest_phys_addr).</summary>
    public ulong GuestPhysicalAddress => Mapping.GuestPhysicalAddress;

    /// <summary>Size in bytes (memory_size).</summary>
    public ulong Size => Mapping.Size;

    /// <summary>The front end's virtual address of the region start (userspace_addr).</summary>
    public ulong UserAddress => Mapping.UserAddress;

    /// <summary>Where the region starts in the memfd (mmap_offset).</summary>
    public ulong MmapOffset { get; }

    /// <summary>One past the last guest-physical address.</summary>
    public ulong End => Mapping.End;

    /// <summary>Bytes not yet handed out by the bump allocator.</summary>
    public ulong FreeBytes => Size - _allocated;

    /// <summary>The front end's own mapping of the region.</summary>
    internal GuestRegion Mapping { get; }

    /// <summary>
    /// Hands out <paramref name="size"/> bytes whose guest-physical address is a multiple of
    /// <paramref name="alignment"/> (a power of two), or returns false if they do not fit.
    /// </summary>
    public bool TryAllocate(ulong size, ulong alignment, out GuestAddress address)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
        }
        ulong cursor = GuestPhysicalAddress + _allocated;
        ulong start = (cursor + alignment - 1) & ~(alignment - 1);
        if (start < cursor || start > End || size > End - start)
        {
            address = default;
            return false;
        }
        _allocated = start + size - GuestPhysicalAddress;
        address = new GuestAddress(start);
        return true;
    }

    /// <summary>Maps the memfd again, as a back end does on SET_MEM_TABLE (caller owns the result).</summary>
    public GuestRegion MapAsBackend() =>
        GuestRegion.Map(Descriptor, GuestPhysicalAddress, Size, UserAddress, MmapOffset);

    /// <inheritdoc />
    public void Dispose()
    {
        Mapping.Dispose();
        Descriptor.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => Mapping.ToString();
}
