// ChainWriter.cs — writes the device-writable part of a chain as one byte stream and counts the
// bytes written, which become the used length (virtio-queue's descriptor_utils Writer).
using System.Runtime.InteropServices;
using VhostUser.Memory;

namespace VhostUser.Virtio;

/// <summary>Sequential writer over a chain's device-writable buffers.</summary>
public ref struct ChainWriter
{
    private readonly GuestMemory _memory;
    private readonly ReadOnlySpan<ChainSegment> _segments;
    private int _segment;
    private uint _offset;
    private uint _remaining;
    private uint _written;

    internal ChainWriter(GuestMemory memory, ReadOnlySpan<ChainSegment> segments, uint writableLength)
    {
        _memory = memory;
        _segments = segments;
        _segment = 0;
        _offset = 0;
        _remaining = writableLength;
        _written = 0;
        SkipToWritable();
    }

    /// <summary>Room left, in bytes.</summary>
    public readonly uint Remaining => _remaining;

    /// <summary>Bytes written so far: the used length to report.</summary>
    public readonly uint BytesWritten => _written;

    /// <summary>Copies as much of <paramref name="source"/> as fits; returns the count.</summary>
    public int Write(scoped ReadOnlySpan<byte> source)
    {
        int total = 0;
        while (!source.IsEmpty && _remaining > 0)
        {
            var chunk = NextChunk(source.Length);
            source[..chunk.Length].CopyTo(chunk);
            source = source[chunk.Length..];
            total += chunk.Length;
        }
        return total;
    }

    /// <summary>Writes all of <paramref name="source"/>, or returns false (and writes nothing).</summary>
    public bool TryWrite(scoped ReadOnlySpan<byte> source)
    {
        if (_remaining < (uint)source.Length)
        {
            return false;
        }
        Write(source);
        return true;
    }

    /// <summary>Writes a wire struct, or returns false if it does not fit.</summary>
    public bool TryWrite<T>(in T value)
        where T : unmanaged => TryWrite(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>
    /// The next contiguous piece of writable guest memory, at most <paramref name="maxLength"/>
    /// bytes, without counting it as written: fill some of it, then call <see cref="Advance"/>
    /// (zero-copy I/O straight into guest memory, like IBufferWriter). Empty when full.
    /// </summary>
    public readonly Span<byte> GetSpan(int maxLength)
    {
        if (_remaining == 0 || maxLength <= 0)
        {
            return default;
        }
        var seg = _segments[_segment];
        ulong left = Math.Min(seg.Length - _offset, (uint)maxLength);
        return _memory.GetChunk(new GuestAddress(seg.Address + _offset), left);
    }

    /// <summary>Counts <paramref name="count"/> bytes of the last <see cref="GetSpan"/> as written.</summary>
    public void Advance(uint count)
    {
        if (count == 0)
        {
            return;
        }
        if (count > _remaining || count > _segments[_segment].Length - _offset)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "advanced past the span returned by GetSpan");
        }
        AdvanceBy(count);
    }

    /// <summary>Skips <paramref name="count"/> bytes, counting them as written (already filled).</summary>
    public uint Skip(uint count)
    {
        uint skipped = 0;
        while (skipped < count && _remaining > 0)
        {
            var seg = _segments[_segment];
            uint step = Math.Min(count - skipped, seg.Length - _offset);
            AdvanceBy(step);
            skipped += step;
        }
        return skipped;
    }

    private Span<byte> NextChunk(int maxLength)
    {
        var seg = _segments[_segment];
        ulong left = Math.Min(seg.Length - _offset, (uint)maxLength);
        var chunk = _memory.GetChunk(new GuestAddress(seg.Address + _offset), left);
        AdvanceBy((uint)chunk.Length);
        return chunk;
    }

    private void AdvanceBy(uint count)
    {
        _offset += count;
        _remaining -= count;
        _written += count;
        if (_offset == _segments[_segment].Length)
        {
            _segment++;
            _offset = 0;
            SkipToWritable();
        }
    }

    private void SkipToWritable()
    {
        while (_segment < _segments.Length && !_segments[_segment].Writable)
        {
            _segment++;
        }
    }
}
