// RngRequests.cs — virtio-rng requests (virtio spec 5.4; devices.md §9): one device-writable
// buffer of --block-size bytes, filled by the device with entropy.
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>virtio-rng request format.</summary>
internal sealed class RngRequests(int blockSize) : RequestFormat
{
    private readonly DriverBuffer[] _buffers = [DriverBuffer.Writable((uint)blockSize)];

    public override ushort Offer(DriverQueue queue, bool indirect) => queue.Offer(_buffers, indirect);

    public override long Complete(DriverQueue queue, UsedElement used) => used.Length == 0 ? -1 : used.Length;
}
