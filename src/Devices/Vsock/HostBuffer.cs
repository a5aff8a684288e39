// HostBuffer.cs — guest→host bytes the host socket has not taken yet, for one connection. Its
// capacity is the buf_alloc we advertise, so a guest that respects its credit never overflows it
// and a host peer that stops reading costs at most that much memory (virtio spec 5.10.6.3 "Buffer
// Space Management"). The array comes from ArrayPool when data first has to wait and goes back
// when the host has taken everything: idle and fast connections hold none.
//
// Seqpacket connections keep whole messages here: MessageLengths lists the complete ones in
// order; bytes after them belong to the message still arriving (no EOM yet).
using System.Buffers;

namespace VhostUser.Devices.Vsock;

/// <summary>Bounded pending bytes for the host side of one connection (worker thread only).</summary>
internal sealed class HostBuffer(int capacity)
{
    private byte[]? _array;
    private int _start;
    private int _end;
    private Queue<int>? _messages;
    private int _completeBytes;

    /// <summary>Most bytes held at once.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Bytes held.</summary>
    public int Count => _end - _start;

    /// <summary>Complete seqpacket messages waiting.</summary>
    public int MessageCount => _messages?.Count ?? 0;

    /// <summary>Bytes of the seqpacket message still arriving.</summary>
    public int PartialMessageBytes => Count - _completeBytes;

    /// <summary>The held bytes, oldest first.</summary>
    public ReadOnlySpan<byte> Data => _array is null ? default : _array.AsSpan(_start, Count);

    /// <summary>Adds bytes; false (and nothing added) if they would exceed the capacity.</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > Capacity - Count)
        {
            return false;
        }
        if (bytes.IsEmpty)
        {
            return true;
        }
        _array ??= ArrayPool<byte>.Shared.Rent(Capacity);
        if (_array.Length - _end < bytes.Length)
        {
            // Move the held bytes to the front: rare (only while the host lags) and at most Capacity bytes.
            _array.AsSpan(_start, Count).CopyTo(_array);
            _end -= _start;
            _start = 0;
        }
        bytes.CopyTo(_array.AsSpan(_end));
        _end += bytes.Length;
        return true;
    }

    /// <summary>Marks the bytes after the last complete message as one more complete message.</summary>
    public void CompleteMessage()
    {
        _messages ??= new Queue<int>();
        _messages.Enqueue(PartialMessageBytes);
        _completeBytes = Count;
    }

    /// <summary>Length of the oldest complete message.</summary>
    public int PeekMessageLength() => _messages!.Peek();

    /// <summary>Drops the oldest complete message (it was sent).</summary>
    public void ConsumeMessage()
    {
        int length = _messages!.Dequeue();
        _completeBytes -= length;
        Consume(length);
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (the host took them).</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            Release();
        }
    }

    /// <summary>Forgets everything and gives the array back.</summary>
    public void Clear()
    {
        _messages?.Clear();
        _completeBytes = 0;
        Release();
    }

    private void Release()
    {
        _start = _end = 0;
        if (_array is not null && _completeBytes == 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
    }
}
