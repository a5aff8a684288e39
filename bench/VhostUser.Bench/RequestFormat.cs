// RequestFormat.cs — what one request of a device looks like to the driver: the buffers offered,
// and how a completed one is checked. One instance serves all queues of a run (single thread).
// Offer and Complete run once per request: they reuse their buffers and allocate nothing
// themselves (DriverQueue.Offer still allocates its own bookkeeping).
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>The request format of one device type.</summary>
internal abstract class RequestFormat
{
    /// <summary>Device feature bits to negotiate besides the ring's (rng none, blk FLUSH).</summary>
    public virtual VirtioFeatures DeviceFeatures => VirtioFeatures.None;

    /// <summary>The format for <paramref name="options"/>.</summary>
    public static RequestFormat Create(BenchOptions options) => options.Device == DeviceKind.Blk
        ? new BlkRequests(options.BlockSize, options.Pattern)
        : new RngRequests(options.BlockSize);

    /// <summary>Anything odd the back end did that is not an error (null: nothing).</summary>
    public virtual string? Remarks => null;

    /// <summary>Reads what the format needs from the connected back end (blk: the capacity).</summary>
    public virtual void Prepare(VhostUserFrontend frontend)
    {
    }

    /// <summary>Offers one request on <paramref name="queue"/>; returns its id.</summary>
    public abstract ushort Offer(DriverQueue queue, bool indirect);

    /// <summary>
    /// Checks a used request; returns the payload bytes it moved, or -1 if the device reported
    /// an error (blk status not OK, rng nothing written).
    /// </summary>
    public abstract long Complete(DriverQueue queue, UsedElement used);
}
