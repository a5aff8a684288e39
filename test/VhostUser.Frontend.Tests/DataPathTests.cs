// DataPathTests.cs — requests through the whole stack (socket, memfd RAM, eventfds, queue workers,
// the notification dance) for split and packed rings, with and without EVENT_IDX, on one queue,
// on several queues sharing a worker, and on several workers (VirtioDevice.WorkerFor).
using VhostUser.Frontend.Tests.Infrastructure;

namespace VhostUser.Frontend.Tests;

public sealed class DataPathTests
{
    public static TheoryData<bool, bool> RingKinds => new()
    {
        { false, false },
        { false, true },
        { true, false },
        { true, true },
    };

    [Theory]
    [MemberData(nameof(RingKinds))]
    public void Echo_ManyRequestsOnOneQueue_EveryAnswerMatches(bool packed, bool eventIdx)
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx));
        var ring = driver.Start(0, size: 16);

        EchoTraffic.Run([ring], requests: 1000, seed: 1);

        Assert.Equal(1000, pair.Device.Completed(0));
        Assert.False(pair.Queue(0).IsBroken);
    }

    [Theory]
    [MemberData(nameof(RingKinds))]
    public void Echo_FourQueuesOnOneWorker_AllServedByOneThread(bool packed, bool eventIdx)
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 4));
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx));
        var rings = Enumerable.Range(0, 4).Select(i => driver.Start(i, size: 8)).ToList();

        EchoTraffic.Run(rings, requests: 300, seed: 2);

        Assert.Single(Enumerable.Range(0, 4).Select(pair.Device.ProcessThreadId).Distinct());
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(300, pair.Device.Completed(i)));
    }

    [Theory]
    [MemberData(nameof(RingKinds))]
    public void Echo_FourQueuesOnFourWorkers_EachServedByItsOwnThread(bool packed, bool eventIdx)
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 4, workerFor: i => i));
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx));
        var rings = Enumerable.Range(0, 4).Select(i => driver.Start(i, size: 8)).ToList();

        EchoTraffic.Run(rings, requests: 300, seed: 3);

        Assert.Equal(4, Enumerable.Range(0, 4).Select(pair.Device.ProcessThreadId).Distinct().Count());
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(300, pair.Device.Completed(i)));
        Assert.Equal(4, pair.Daemon.Context.Workers.Count);
    }

    [Fact]
    public void Echo_QueuesPairedOnTwoWorkers_PairsShareAThread()
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 4, workerFor: i => i / 2));
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        var rings = Enumerable.Range(0, 4).Select(i => driver.Start(i, size: 8)).ToList();

        EchoTraffic.Run(rings, requests: 100, seed: 4);

        var threads = Enumerable.Range(0, 4).Select(pair.Device.ProcessThreadId).ToArray();
        Assert.Equal(threads[0], threads[1]);
        Assert.Equal(threads[2], threads[3]);
        Assert.NotEqual(threads[0], threads[2]);
    }
}
