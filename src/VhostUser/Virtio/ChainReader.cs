// ChainReader.cs — reads the device-readable part of a chain as one byte stream, hiding
// scatter-gather and region boundaries (virtio-queue's descriptor_utils Reader). Values are
// copied out of guest memory; devices validate the copies.
using System.Runtime.InteropServices;
using VhostUser.Memory;

namespace VhostUser.Virtio;

/// <summary>Sequential reader over a chain's device-readable buffers.</summary>
public ref struct ChainReader
{
    private readonly GuestMemory _memory;
    private readonly ReadOnlySpan<ChainSegment> _segments;
    private int _segment;
    private uint _offset;
    private uint _remaining;

    internal ChainReader(GuestMemory memory, ReadOnlySpan<ChainSegment> segments, uint readableLength)
    {
        _memory = memory;
        _segments = segments;
        _segment = 0;
        _offset = 0;
        _remaining = readableLength;
        SkipToReadable();
    }

    /// <summary>Bytes left to read.</summary>
    public readonly uint Remaining => _remaining;

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes; returns the count.</summary>
    public int Read(scoped Span<byte> destination)
    {
        int total = 0;
        while (!destination.IsEmpty && _remaining > 0)
        {
            var chunk = NextChunk(destination.Length);
            chunk.CopyTo(destination);
            destination = destination[chunk.Length..];
            total += chunk.Length;
        }
        return total;
    }

    /// <summary>Fills <paramref name="destination"/> completely, or returns false (and reads nothing).</summary>
    public bool TryReadExactly(scoped Span<byte> destination)
    {
        if (_remaining < (uint)destination.Length)
        {
            return false;
        }
        Read(destination);
        return true;
    }

    /// <summary>Reads a copy of a wire struct, or returns false if fewer bytes remain.</summary>
    public bool TryRead<T>(out T value)
        where T : unmanaged
    {
        // Fill the value's own bytes: no size arithmetic and no Unsafe class (design README 1.7).
        value = default;
        if (!TryReadExactly(MemoryMarshal.AsBytes(new Span<T>(ref value))))
        {
            value = default;
            return false;
        }
        return true;
    }

    /// <summary>Skips up to <paramref name="count"/> bytes; returns how many were skipped.</summary>
    public uint Skip(uint count)
    {
        uint skipped = 0;
        while (skipped < count && _remaining > 0)
        {
            var seg = _segments[_segment];
            uint step = Math.Min(count - skipped, seg.Length - _offset);
            Advance(step);
            skipped += step;
        }
        return skipped;
    }

    /// <summary>
    /// Returns the next contiguous piece of guest memory, at most <paramref name="maxLength"/>
    /// bytes, and moves past it (zero-copy I/O straight from guest memory). Empty at the end.
    /// </summary>
    public Span<byte> ReadSpan(int maxLength) => _remaining == 0 || maxLength <= 0 ? default : NextChunk(maxLength);

    private Span<byte> NextChunk(int maxLength)
    {
        var seg = _segments[_segment];
        ulong left = Math.Min(seg.Length - _offset, (uint)maxLength);
        var chunk = _memory.GetChunk(new GuestAddress(seg.Address + _offset), left);
        Advance((uint)chunk.Length);
        return chunk;
    }

    private void Advance(uint count)
    {
        _offset += count;
        _remaining -= count;
        if (_offset == _segments[_segment].Length)
        {
            _segment++;
            _offset = 0;
            SkipToReadable();
        }
    }

    private void SkipToReadable()
    {
        while (_segment < _segments.Length && _segments[_segment].Writable)
        {
            _segment++;
        }
    }
}
