// TestRegions.cs — GuestRegions over anonymous memory, for GuestMemory tests that need
// arbitrary guest and front-end addresses without memfds.
using VhostUser.Memory;
using VhostUser.Unix;

namespace VhostUser.Tests.Infrastructure;

public static class TestRegions
{
    /// <summary>A region of <paramref name="size"/> bytes at <paramref name="gpa"/>, front-end address <paramref name="uaddr"/>.</summary>
    public static GuestRegion Anonymous(ulong gpa, ulong size, ulong? uaddr = null) =>
        new(gpa, size, uaddr ?? 0x7f00_0000_0000 + gpa, MappedRegion.MapAnonymous(size), 0);
}
