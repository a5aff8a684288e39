// DescriptorChain.cs — a popped chain as a device sees it: its id, its byte totals and, through
// readers and writers, its buffers. A value type: popping and completing allocate nothing.
// The buffers stay valid until the chain is completed (DeviceQueue.Complete / Virtqueue.AddUsed).
using VhostUser.Memory;

namespace VhostUser.Virtio;

/// <summary>A descriptor chain popped from a virtqueue.</summary>
public readonly struct DescriptorChain
{
    internal DescriptorChain(Virtqueue queue, ushort id, uint generation, uint incarnation, uint readableLength, uint writableLength, ushort ringSlots)
    {
        Queue = queue;
        Id = id;
        Generation = generation;
        Incarnation = incarnation;
        ReadableLength = readableLength;
        WritableLength = writableLength;
        RingSlots = ringSlots;
    }

    /// <summary>The queue the chain came from.</summary>
    public Virtqueue Queue { get; }

    /// <summary>Head index (split) or buffer id (packed).</summary>
    public ushort Id { get; }

    /// <summary>Total bytes of the device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Total bytes of the device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>Ring slots the chain occupied (packed; 1 for split).</summary>
    public ushort RingSlots { get; }

    /// <summary>True for a chain obtained from a queue (not <c>default</c>).</summary>
    public bool IsValid => Queue is not null;

    internal uint Generation { get; }

    /// <summary>Which start of its ring the chain was popped in (<see cref="Virtqueue.Incarnation"/>).</summary>
    internal uint Incarnation { get; }

    /// <summary>
    /// The chain's buffers in ring order; none once its ring was stopped and started again (the
    /// driver has taken the buffers back, so nothing may be read or written there any more).
    /// </summary>
    public ReadOnlySpan<ChainSegment> Segments => Queue.GetSegments(Id, Generation, Incarnation);

    /// <summary>A reader over the device-readable buffers (empty for a chain of an earlier ring start).</summary>
    public ChainReader CreateReader() => CreateReader(Queue.Memory);

    /// <summary>A writer over the device-writable buffers (empty for a chain of an earlier ring start).</summary>
    public ChainWriter CreateWriter() => CreateWriter(Queue.Memory);

    /// <summary>A reader over a given snapshot (a leased one, off the queue worker).</summary>
    public ChainReader CreateReader(GuestMemory memory)
    {
        var segments = Segments;
        return new(memory, segments, segments.IsEmpty ? 0 : ReadableLength);
    }

    /// <summary>A writer over a given snapshot (a leased one, off the queue worker).</summary>
    public ChainWriter CreateWriter(GuestMemory memory)
    {
        var segments = Segments;
        return new(memory, segments, segments.IsEmpty ? 0 : WritableLength);
    }
}
