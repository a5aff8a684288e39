// EchoTraffic.cs — many echo requests through started rings: batches of chains of varied sizes,
// direct and indirect, split into several buffers, kicked only when the device asks, each
// answer checked byte for byte against what was sent under its id. Several rings are driven
// round-robin from one thread (DriverQueue and SharedGuestMemory are single-threaded), so their
// batches are in the device's hands at the same time.
namespace VhostUser.Frontend.Tests.Infrastructure;

internal static class EchoTraffic
{
    /// <summary>Runs <paramref name="requests"/> echo requests on every ring in <paramref name="rings"/>.</summary>
    public static void Run(IReadOnlyList<DriverRing> rings, int requests, int seed)
    {
        var random = new Random(seed);
        var expected = new Dictionary<ushort, byte[]>[rings.Count];
        var done = new int[rings.Count];
        for (int i = 0; i < rings.Count; i++)
        {
            expected[i] = [];
        }
        while (done.Min() < requests)
        {
            for (int i = 0; i < rings.Count; i++)
            {
                OfferBatch(rings[i], expected[i], Math.Min(random.Next(1, 6), requests - done[i]), random);
            }
            for (int i = 0; i < rings.Count; i++)
            {
                done[i] += Collect(rings[i], expected[i]);
            }
        }
    }

    private static void OfferBatch(DriverRing ring, Dictionary<ushort, byte[]> expected, int count, Random random)
    {
        for (int n = 0; n < count; n++)
        {
            bool indirect = random.Next(3) == 0;
            if (!ring.Queue.CanOffer(4, indirect))
            {
                break;
            }
            var data = new byte[random.Next(2, 300)];
            random.NextBytes(data);
            int split = random.Next(1, data.Length);
            int writableSplit = random.Next(1, data.Length);
            ushort id = ring.Queue.Offer(
                [
                    DriverBuffer.Readable(data.AsMemory(0, split)),
                    DriverBuffer.Readable(data.AsMemory(split)),
                    DriverBuffer.Writable((uint)writableSplit),
                    DriverBuffer.Writable((uint)(data.Length - writableSplit)),
                ],
                indirect);
            expected.Add(id, data);
        }
        ring.KickIfNeeded();
    }

    private static int Collect(DriverRing ring, Dictionary<ushort, byte[]> expected)
    {
        int taken = 0;
        while (expected.Count > 0)
        {
            var used = ring.WaitUsed();
            Assert.True(expected.Remove((ushort)used.Id, out var data), $"queue {ring.Index}: used id {used.Id} was not in flight");
            Assert.Equal((uint)data.Length, used.Length);
            Assert.Equal(data, ring.Queue.ReadWritten(used));
            taken++;
        }
        return taken;
    }
}
