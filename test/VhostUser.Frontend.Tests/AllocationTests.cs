// AllocationTests.cs — the request hot path allocates nothing (design README 1.8): with the daemon
// in process, the FakeDevice reads the worker thread's allocated-bytes counter at the entry of
// every ProcessQueue call, so the difference between the first and the last call of a window
// covers whole round trips on the worker — epoll wake-up, kick drain, pop, chain read and write,
// complete, the notification decision and the call signal — for split and packed rings, with
// and without EVENT_IDX.
using VhostUser.Frontend.Tests.Infrastructure;

namespace VhostUser.Frontend.Tests;

public sealed class AllocationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Request_WarmWorkerPath_AllocatesNothing(bool packed, bool eventIdx)
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx));
        var ring = driver.Start(0, size: 16);
        var data = new byte[200];
        for (int i = 0; i < 500; i++)
        {
            ring.Echo(data); // warm-up: chain storage sized, code jitted
        }
        EchoTraffic.Run([ring], requests: 200, seed: 6); // indirect and multi-buffer chains too

        pair.Device.StartAllocationWindow();
        for (int i = 0; i < 300; i++)
        {
            ring.Echo(data);
        }
        EchoTraffic.Run([ring], requests: 200, seed: 7);
        var (bytes, calls) = pair.Device.StopAllocationWindow();

        output.WriteLine($"{calls} ProcessQueue calls, {bytes} bytes allocated on the worker");
        Assert.True(calls >= 300, $"only {calls} ProcessQueue calls were recorded");
        Assert.Equal(0, bytes);
    }
}
