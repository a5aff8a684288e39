// SiblingMailbox.cs — packets from sibling guests (same daemon, a shared group) waiting for this
// guest's rx buffers. The sending guest's worker posts (copying the payload out of its guest
// memory into a pooled array), this device's worker takes; a lock guards the queue and an eventfd
// wakes the taker. Credit between the two guests is end to end (the headers pass through), so an
// honest pair never has more than their buffers' worth here; the byte and packet caps protect a
// guest from a sibling that ignores credit or from one whose driver stopped taking rx buffers.
using System.Buffers;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

/// <summary>One packet in transit between sibling guests.</summary>
/// <param name="Header">The header as the sender wrote it.</param>
/// <param name="Payload">Pooled array holding the payload (null if empty); the taker returns it.</param>
internal readonly record struct SiblingPacket(VsockHeader Header, byte[]? Payload);

/// <summary>A bounded, thread-safe queue of sibling packets with an eventfd for the taker.</summary>
internal sealed class SiblingMailbox : IDisposable
{
    /// <summary>Most payload bytes queued for one guest.</summary>
    public const long MaxBytes = 32L << 20;

    /// <summary>Most packets queued for one guest.</summary>
    public const int MaxPackets = 16384;

    private readonly Lock _lock = new();
    private readonly Queue<SiblingPacket> _packets = new();
    private readonly EventFd _signal = EventFd.Create();
    private long _bytes;

    /// <summary>Readable when packets were posted (watched on the taker's worker).</summary>
    public FileDescriptor Signal => _signal.Descriptor;

    /// <summary>
    /// Copies a packet (header plus <c>header.Len</c> bytes read from <paramref name="payload"/>)
    /// in. Returns false if the mailbox is full; the caller then resets the connection.
    /// </summary>
    public bool TryPost(in VsockHeader header, ref ChainReader payload)
    {
        byte[]? array = null;
        if (header.Len > 0)
        {
            array = ArrayPool<byte>.Shared.Rent((int)header.Len);
            payload.Read(array.AsSpan(0, (int)header.Len));
        }
        bool wasEmpty;
        lock (_lock)
        {
            if (_packets.Count >= MaxPackets || _bytes + header.Len > MaxBytes)
            {
                if (array is not null)
                {
                    ArrayPool<byte>.Shared.Return(array);
                }
                return false;
            }
            wasEmpty = _packets.Count == 0;
            _packets.Enqueue(new SiblingPacket(header, array));
            _bytes += header.Len;
        }
        if (wasEmpty)
        {
            _signal.Signal();
        }
        return true;
    }

    /// <summary>Takes the oldest packet (the taker returns its payload array to the pool).</summary>
    public bool TryTake(out SiblingPacket packet)
    {
        lock (_lock)
        {
            if (!_packets.TryDequeue(out packet))
            {
                return false;
            }
            _bytes -= packet.Header.Len;
            return true;
        }
    }

    /// <summary>True if packets are waiting (a racy hint; TryTake decides).</summary>
    public bool HasPackets
    {
        get
        {
            lock (_lock)
            {
                return _packets.Count > 0;
            }
        }
    }

    /// <summary>Resets the eventfd (the taker then drains the queue).</summary>
    public void DrainSignal() => _signal.Drain();

    /// <summary>Drops everything queued (the guest went away).</summary>
    public void Clear()
    {
        while (TryTake(out var packet))
        {
            Return(packet);
        }
        _signal.Drain();
    }

    /// <summary>Gives a taken packet's array back.</summary>
    public static void Return(in SiblingPacket packet)
    {
        if (packet.Payload is not null)
        {
            ArrayPool<byte>.Shared.Return(packet.Payload);
        }
    }

    public void Dispose()
    {
        Clear();
        _signal.Dispose();
    }
}
