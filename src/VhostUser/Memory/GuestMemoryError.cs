namespace VhostUser.Memory;

/// <summary>Why a guest-memory access or memory-table change was refused.</summary>
public enum GuestMemoryError
{
    /// <summary>The address is not inside any region.</summary>
    AddressNotMapped,
    /// <summary>The range starts in a region but runs past its end (and no adjacent region continues it).</summary>
    RangeNotMapped,
    /// <summary>Address plus length overflows 64 bits.</summary>
    AddressOverflow,
    /// <summary>A new region overlaps an existing one (guest-physical or front-end address).</summary>
    RegionOverlap,
    /// <summary>A region's size is zero or its offsets overflow.</summary>
    InvalidRegion,
    /// <summary>More regions than the advertised slot count.</summary>
    TooManyRegions,
    /// <summary>No region matches the one to remove.</summary>
    RegionNotFound,
    /// <summary>A front-end virtual address could not be translated.</summary>
    UserAddressNotMapped,
}
