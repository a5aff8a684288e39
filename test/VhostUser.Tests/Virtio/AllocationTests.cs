// AllocationTests.cs — the per-request path allocates nothing once warm (design README 1.8):
// pop → read → write → complete → notification decision, with the notification dance around it.
// Only the device side is measured; the driver double allocates freely between measurements.
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class AllocationTests
{
    private const int Size = 16;

    [Theory]
    [MemberData(nameof(RingConfigs.All), MemberType = typeof(RingConfigs))]
    public void DeviceLoop_AfterWarmUp_AllocatesNothing(bool packed, bool eventIdx, bool indirect)
    {
        using var h = QueueHarness.Create(packed, eventIdx, indirect, size: Size);
        var request = new byte[64];
        var reply = ChainData.Pattern(48);
        // Warm-up: per-id chain storage grows once per id, so every id must have carried a
        // full-size chain before the measurement (64 rounds cycle every head and buffer id).
        for (int round = 0; round < 64; round++)
        {
            OfferBatch(h, indirect, round);
            ProcessBatch(h.Device, request, reply);
            TakeAll(h);
        }

        long allocated = 0;
        int processed = 0;
        for (int round = 0; round < 16; round++)
        {
            OfferBatch(h, indirect, round);
            long before = GC.GetAllocatedBytesForCurrentThread();
            processed += ProcessBatch(h.Device, request, reply);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            TakeAll(h);
        }

        Assert.True(processed >= 16 * 3, $"only {processed} chains were processed");
        Assert.Equal(0, allocated);
    }

    /// <summary>The device side: what a queue worker and a request/response device do per batch.</summary>
    private static int ProcessBatch(Virtqueue queue, byte[] request, byte[] reply)
    {
        int count = 0;
        queue.DisableNotification();
        do
        {
            while (queue.TryPop(out var chain))
            {
                var reader = chain.CreateReader();
                reader.Read(request);
                var writer = chain.CreateWriter();
                writer.Write(reply);
                queue.AddUsed(chain, writer.BytesWritten);
                count++;
            }
        }
        while (queue.EnableNotification());
        queue.NeedsNotification();
        return count;
    }

    /// <summary>Fills the ring with chains of five buffers (more than the queue's initial per-chain capacity).</summary>
    private static void OfferBatch(QueueHarness h, bool indirect, int round)
    {
        var buffers = new[]
        {
            DriverBuffer.Readable(ChainData.Pattern(40, round)), DriverBuffer.Readable(ChainData.Pattern(24, round)),
            DriverBuffer.Writable(16), DriverBuffer.Writable(16), DriverBuffer.Writable(32),
        };
        while (h.Driver.CanOffer(buffers.Length, indirect))
        {
            h.Driver.Offer(buffers, indirect);
        }
    }

    private static void TakeAll(QueueHarness h)
    {
        while (h.Driver.TryTakeUsed(out var used))
        {
            Assert.Equal(48u, used.Length);
        }
        Assert.Equal(0, h.Driver.InFlightCount);
    }
}
