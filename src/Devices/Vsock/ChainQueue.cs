// ChainQueue.cs — the rx chains the driver made available and the device holds until a packet
// is ready (design README 1.4, held buffers): a first-in first-out ring that can also be read at
// any position, so one host read can fill several buffers in order (VsockDevice.ReadStream).
// Worker thread only.
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

/// <summary>Held descriptor chains, oldest first.</summary>
internal sealed class ChainQueue
{
    private DescriptorChain[] _items = new DescriptorChain[64];
    private int _head;

    public int Count { get; private set; }

    /// <summary>The chain <paramref name="index"/> places from the oldest.</summary>
    public ref readonly DescriptorChain this[int index] => ref _items[(_head + index) & (_items.Length - 1)];

    public void Enqueue(in DescriptorChain chain)
    {
        if (Count == _items.Length)
        {
            Grow();
        }
        _items[(_head + Count) & (_items.Length - 1)] = chain;
        Count++;
    }

    /// <summary>Forgets the <paramref name="count"/> oldest chains (they were completed).</summary>
    public void Dequeue(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _items[(_head + i) & (_items.Length - 1)] = default;
        }
        _head = (_head + count) & (_items.Length - 1);
        Count -= count;
    }

    public void Clear() => Dequeue(Count);

    private void Grow()
    {
        // A ring never offers more chains than its size (at most 32768), so this stops early.
        var larger = new DescriptorChain[_items.Length * 2];
        for (int i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }
        _items = larger;
        _head = 0;
    }
}
