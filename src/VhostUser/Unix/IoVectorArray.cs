// IoVectorArray.cs — a native iovec array for vectored I/O straight into or out of shared
// mappings (guest RAM), for preadv2/pwritev2 on any thread and for io_uring, where the kernel
// reads the array and the buffers after the submitting call returned.
//
// Ownership and lifetime: the array lives in native memory, so its address never moves while the
// kernel holds it. It starts small and grows (doubling, up to its capacity) only in TryAdd, that
// is while a request is being built and before its address is handed to the kernel; a request
// slot that once carried a long chain keeps the larger array, so a warm slot allocates nothing.
// (A queue of 1024 slots with room for 1024 entries each up front would be 16 MiB per queue.) Every entry points into a MappedRegion, never into managed memory, and the
// array holds a lease (SafeHandle.DangerousAddRef) on each mapping it points into until
// Clear/Dispose. A mapping disposed meanwhile (the front end replaced the memory table while a
// request was under I/O) is therefore unmapped only when the last array pointing into it lets go:
// the kernel can never write through a stale address into whatever is mapped there next.
//
// Threading: one owner at a time. A request fills it on its queue worker, an I/O thread or the
// kernel uses it, and the worker clears it after the completion.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>A bounded, growable iovec array over shared mappings, with leases on those mappings.</summary>
public sealed unsafe class IoVectorArray : IDisposable
{
    /// <summary>Most entries one system call accepts (UIO_MAXIOV).</summary>
    public const int MaxEntries = 1024;

    /// <summary>Entries allocated up front (256 bytes; most requests need two or three).</summary>
    private const int InitialEntries = 16;

    private readonly int _capacity;
    private int _allocated;
    private MappedRegion?[] _leases = new MappedRegion?[4];
    private LibC.iovec* _entries;
    private int _count;
    private int _leaseCount;
    private ulong _totalLength;

    /// <summary>Creates an empty array that holds up to <paramref name="capacity"/> entries.</summary>
    public IoVectorArray(int capacity = MaxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxEntries);
        _capacity = capacity;
        _allocated = Math.Min(capacity, InitialEntries);
        // SAFETY: a fresh native block of _allocated iovecs, resized only in Grow, freed once in Dispose.
        _entries = (LibC.iovec*)NativeMemory.Alloc((nuint)_allocated, (nuint)sizeof(LibC.iovec));
    }

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Sum of the entry lengths.</summary>
    public ulong TotalLength => _totalLength;

    /// <summary>The most entries the array takes.</summary>
    public int Capacity => _capacity;

    /// <summary>Entries the native array has room for now (grows up to <see cref="Capacity"/>).</summary>
    public int Allocated => _allocated;

    /// <summary>Address of the native array (for system calls in this folder).</summary>
    internal nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_entries is null, this);
            return (nint)_entries;
        }
    }

    /// <summary>
    /// Appends [offset, offset+length) of <paramref name="mapping"/>, merging with the previous
    /// entry when contiguous. Returns false (and adds nothing) if the array is full. Throws if
    /// the range is not inside the mapping or the mapping was disposed.
    /// </summary>
    public bool TryAdd(MappedRegion mapping, ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_entries is null, this);
        if (offset > mapping.Length || length > mapping.Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"range [0x{offset:x}, +0x{length:x}) is outside the 0x{mapping.Length:x}-byte mapping");
        }
        if (length == 0)
        {
            return true;
        }
        Lease(mapping);
        byte* start = (byte*)mapping.DangerousGetHandle() + offset;
        if (_count > 0 && (byte*)_entries[_count - 1].iov_base + _entries[_count - 1].iov_len == start)
        {
            // SAFETY: the previous entry ends where this one starts; both lie in leased mappings.
            _entries[_count - 1].iov_len += (nuint)length;
        }
        else
        {
            if (_count == _allocated && !TryGrow())
            {
                return false;
            }
            // SAFETY: start..start+length was checked to lie inside the mapping, which the lease
            // taken above keeps mapped until Clear.
            _entries[_count++] = new LibC.iovec { iov_base = start, iov_len = (nuint)length };
        }
        _totalLength += length;
        return true;
    }

    /// <summary>Sets every byte the entries cover to <paramref name="value"/> (a read from a null device).</summary>
    public void Fill(byte value)
    {
        for (int i = 0; i < _count; i++)
        {
            // SAFETY: each entry lies inside a leased mapping (TryAdd); chunks keep Span lengths in int range.
            byte* p = (byte*)_entries[i].iov_base;
            ulong left = _entries[i].iov_len;
            while (left > 0)
            {
                int chunk = (int)Math.Min(left, int.MaxValue);
                new Span<byte>(p, chunk).Fill(value);
                p += chunk;
                left -= (ulong)chunk;
            }
        }
    }

    /// <summary>Drops every entry and releases the leases.</summary>
    public void Clear()
    {
        _count = 0;
        _totalLength = 0;
        for (int i = 0; i < _leaseCount; i++)
        {
            _leases[i]!.DangerousRelease();
            _leases[i] = null;
        }
        _leaseCount = 0;
    }

    /// <summary>Releases the leases and frees the native array.</summary>
    public void Dispose()
    {
        if (_entries is null)
        {
            return;
        }
        Clear();
        NativeMemory.Free(_entries);
        _entries = null;
    }

    /// <summary>Doubles the native array (up to the capacity); false when it is at the capacity.</summary>
    private bool TryGrow()
    {
        if (_allocated == _capacity)
        {
            return false;
        }
        int grown = Math.Min(_capacity, _allocated * 2);
        // SAFETY: only TryAdd grows the array, before its address is given to the kernel (see the
        // file header); realloc keeps the first _count entries. On failure it throws and the old
        // block stays valid.
        _entries = (LibC.iovec*)NativeMemory.Realloc(_entries, (nuint)grown * (nuint)sizeof(LibC.iovec));
        _allocated = grown;
        return true;
    }

    private void Lease(MappedRegion mapping)
    {
        for (int i = 0; i < _leaseCount; i++)
        {
            if (ReferenceEquals(_leases[i], mapping))
            {
                return;
            }
        }
        bool added = false;
        mapping.DangerousAddRef(ref added); // throws ObjectDisposedException for a disposed mapping
        if (_leaseCount == _leases.Length)
        {
            Array.Resize(ref _leases, _leases.Length * 2);
        }
        _leases[_leaseCount++] = mapping;
    }
}
