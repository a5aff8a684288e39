// SharedGuestMemory.cs — the front end's guest RAM (design README 1.9): memfd regions the front end
// maps itself and announces to the back end with SET_MEM_TABLE / ADD_MEM_REG, the mirror of the
// back end's GuestMemory. A bump allocator places ring areas and buffers; nothing is ever freed
// (test and VMM-bring-up memory lives as long as the front end).
//
// Every front-end virtual address is UserAddressBase + guest-physical address unless given: a
// fake address space that never overlaps itself, enough for SET_VRING_ADDR translation tests.
//
// Threading: one thread at a time (the test, or the front end's control thread).
using VhostUser.Memory;
using VhostUser.Unix;

namespace VhostUser.Frontend;

/// <summary>The front end's guest RAM: memfd regions shared with a back end.</summary>
public sealed class SharedGuestMemory : IDisposable
{
    /// <summary>Front-end virtual address of guest-physical address 0 (default translation).</summary>
    public const ulong UserAddressBase = 0x7f00_0000_0000;

    private readonly List<SharedRegion> _regions = []; // sorted by guest-physical address
    private readonly List<GuestRegion> _backendMappings = [];
    private GuestMemory _view = GuestMemory.Empty;

    /// <summary>Creates guest RAM with one region of <paramref name="size"/> bytes at guest address 0.</summary>
    public static SharedGuestMemory Create(ulong size)
    {
        var memory = new SharedGuestMemory();
        memory.AddRegion(0, size);
        return memory;
    }

    /// <summary>The regions, sorted by guest-physical address (what SET_MEM_TABLE sends).</summary>
    public IReadOnlyList<SharedRegion> Regions => _regions;

    /// <summary>The front end's own view of its RAM, through its own mappings.</summary>
    public GuestMemory View => _view;

    /// <summary>
    /// Creates a memfd region of <paramref name="size"/> bytes at <paramref name="guestPhysicalAddress"/>
    /// (hot add). The memfd holds <paramref name="mmapOffset"/> bytes before the region, as a VMM
    /// that carves several regions out of one file does. Throws <see cref="GuestMemoryException"/>
    /// (RegionOverlap) if the region overlaps another in guest-physical or front-end address space.
    /// </summary>
    public SharedRegion AddRegion(ulong guestPhysicalAddress, ulong size, ulong mmapOffset = 0, ulong? userAddress = null)
    {
        ulong uaddr = userAddress ?? UserAddressBase + guestPhysicalAddress;
        var fd = MemFd.Create($"vhostd-ram-{guestPhysicalAddress:x}", checked((long)(mmapOffset + size)));
        SharedRegion? region = null;
        try
        {
            region = new SharedRegion(fd, GuestRegion.Map(fd, guestPhysicalAddress, size, uaddr, mmapOffset), mmapOffset);
            var view = _view.Add(region.Mapping);
            _regions.Add(region);
            _regions.Sort((a, b) => a.GuestPhysicalAddress.CompareTo(b.GuestPhysicalAddress));
            _view = view;
            return region;
        }
        catch
        {
            if (region is null)
            {
                fd.Dispose();
            }
            else
            {
                region.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Detaches <paramref name="region"/> (hot remove). The caller owns it from now on and disposes
    /// it once the back end has let go of it (REM_MEM_REG answered).
    /// </summary>
    public void RemoveRegion(SharedRegion region)
    {
        if (!_regions.Remove(region))
        {
            throw new ArgumentException($"region {region} is not part of this memory", nameof(region));
        }
        _view = _view.Remove(region.GuestPhysicalAddress, region.Size, region.UserAddress, out _);
    }

    /// <summary>
    /// Hands out <paramref name="size"/> bytes aligned to <paramref name="alignment"/> from the
    /// first region with room (in guest-address order). Throws when no region has room.
    /// </summary>
    public GuestAddress Allocate(ulong size, ulong alignment = 8)
    {
        foreach (var region in _regions)
        {
            if (region.TryAllocate(size, alignment, out var address))
            {
                return address;
            }
        }
        throw new InvalidOperationException($"guest RAM is full: no region has 0x{size:x} bytes aligned to {alignment}");
    }

    /// <summary>Allocates <paramref name="size"/> bytes inside <paramref name="region"/>, or throws.</summary>
    public static GuestAddress Allocate(SharedRegion region, ulong size, ulong alignment = 8) =>
        region.TryAllocate(size, alignment, out var address)
            ? address
            : throw new InvalidOperationException($"region {region} has no 0x{size:x} bytes aligned to {alignment}");

    /// <summary>The front-end virtual address of <paramref name="address"/> (for SET_VRING_ADDR).</summary>
    public ulong ToUserAddress(GuestAddress address)
    {
        foreach (var region in _regions)
        {
            if (region.Mapping.Contains(address.Value))
            {
                return region.UserAddress + (address.Value - region.GuestPhysicalAddress);
            }
        }
        throw new GuestMemoryException(GuestMemoryError.AddressNotMapped, $"guest address {address} is not in front-end RAM");
    }

    /// <summary>Span over [address, address+length) if it lies in one region; throws otherwise.</summary>
    public Span<byte> GetSpan(GuestAddress address, int length) => _view.GetSpan(address, length);

    /// <summary>Copies guest bytes out (may cross adjacent regions).</summary>
    public void Read(GuestAddress address, Span<byte> destination) => _view.Read(address, destination);

    /// <summary>Copies bytes into guest RAM (may cross adjacent regions).</summary>
    public void Write(GuestAddress address, ReadOnlySpan<byte> source) => _view.Write(address, source);

    /// <summary>Reads a wire struct.</summary>
    public T Read<T>(GuestAddress address)
        where T : unmanaged => _view.Read<T>(address);

    /// <summary>Writes a wire struct.</summary>
    public void Write<T>(GuestAddress address, in T value)
        where T : unmanaged => _view.Write(address, in value);

    /// <summary>Fills [address, address+length) with <paramref name="value"/>.</summary>
    public void Fill(GuestAddress address, ulong length, byte value)
    {
        while (length > 0)
        {
            var chunk = _view.GetChunk(address, length);
            chunk.Fill(value);
            length -= (ulong)chunk.Length;
            address = new GuestAddress(address.Value + (ulong)chunk.Length);
        }
    }

    /// <summary>
    /// Builds the GuestMemory a back end would build from SET_MEM_TABLE: each memfd mapped again
    /// with its mmap offset (for in-process tests). The mappings are disposed with this object.
    /// </summary>
    public GuestMemory CreateBackendMemory()
    {
        var mapped = new List<GuestRegion>(_regions.Count);
        foreach (var region in _regions)
        {
            mapped.Add(MapForBackend(region));
        }
        return GuestMemory.Create(mapped);
    }

    /// <summary>
    /// Maps one region again as a back end does on ADD_MEM_REG. The mapping is disposed with this
    /// object (disposing it earlier is fine too).
    /// </summary>
    public GuestRegion MapForBackend(SharedRegion region)
    {
        var mapping = region.MapAsBackend();
        _backendMappings.Add(mapping);
        return mapping;
    }

    /// <summary>Unmaps and closes every region and every back-end mapping made here.</summary>
    public void Dispose()
    {
        foreach (var mapping in _backendMappings)
        {
            mapping.Dispose();
        }
        _backendMappings.Clear();
        foreach (var region in _regions)
        {
            region.Dispose();
        }
        _regions.Clear();
        _view = GuestMemory.Empty;
    }
}
