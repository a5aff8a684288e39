// MappedRegion.cs — one shared mapping of a file descriptor (guest RAM region, inflight area,
// dirty log). Owns the mapping: ReleaseHandle unmaps it. Hands out spans bounded to the
// mapping; nothing above this folder ever sees the address.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>An mmap'ed range, unmapped on dispose.</summary>
public sealed class MappedRegion : SafeHandle
{
    private readonly ulong _length;
    private volatile bool _unmapped;

    private MappedRegion(nint address, ulong length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        _length = length;
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Length of the mapping in bytes.</summary>
    public ulong Length => _length;

    /// <summary>System page size.</summary>
    public static long PageSize { get; } = LibC.sysconf(LibC._SC_PAGESIZE);

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> from file offset
    /// <paramref name="fileOffset"/> (a multiple of the page size), shared, read-write by default.</summary>
    public static MappedRegion Map(FileDescriptor fd, ulong length, long fileOffset = 0, bool writable = true)
    {
        if (length == 0 || length > long.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "mapping length must be between 1 and 2^63-1");
        }
        using var lease = new FdLease(fd);
        int prot = LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0);
        nint address = LibC.mmap(0, (nuint)length, prot, LibC.MAP_SHARED, lease.Fd, fileOffset);
        if (address == LibC.MAP_FAILED)
        {
            ThrowHelper.ThrowIOError("mmap");
        }
        return new MappedRegion(address, length);
    }

    /// <summary>Maps anonymous private zeroed memory (tests and benchmarks).</summary>
    public static MappedRegion MapAnonymous(ulong length)
    {
        nint address = LibC.mmap(0, (nuint)length, LibC.PROT_READ | LibC.PROT_WRITE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (address == LibC.MAP_FAILED)
        {
            ThrowHelper.ThrowIOError("mmap(anonymous)");
        }
        return new MappedRegion(address, length);
    }

    /// <summary>
    /// Returns the span [offset, offset+length) of the mapping. Throws if the range is not
    /// entirely inside it. The span is valid until the region is disposed: callers on worker
    /// threads rely on the control thread pausing them before it disposes a region (README 1.5).
    /// </summary>
    public Span<byte> GetSpan(ulong offset, int length)
    {
        if (length < 0 || offset > _length || (ulong)length > _length - offset)
        {
            ThrowOutOfRange(offset, length);
        }
        // An unmapped region's handle still holds the old address: never hand out a span over it.
        // (Disposed but leased through DangerousAddRef — GuestMemoryLease — is still mapped.)
        ObjectDisposedException.ThrowIf(_unmapped, this);
        unsafe
        {
            // SAFETY: [offset, offset+length) was checked to lie inside the live mapping
            // [handle, handle+_length); the mapping stays until ReleaseHandle.
            return new Span<byte>((byte*)handle + offset, length);
        }
    }

    /// <summary>Flushes the mapping to its file (msync MS_SYNC).</summary>
    public void Flush()
    {
        if (LibC.msync(handle, (nuint)_length, 4 /* MS_SYNC */) < 0)
        {
            ThrowHelper.ThrowIOError("msync");
        }
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        _unmapped = true;
        return LibC.munmap(handle, (nuint)_length) == 0;
    }

    private void ThrowOutOfRange(ulong offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset),
            $"range [0x{offset:x}, +0x{length:x}) is outside the 0x{_length:x}-byte mapping");
}
