// RingLifecycleTests.cs — stopping and restarting rings (vhost-user-protocol.md §8): GET_VRING_BASE
// returns the position in the §3 encoding (split: next avail index; packed: slots and wrap
// counters), SET_VRING_BASE with it continues where the ring stopped, chains a device holds for
// later are given back to the driver, and chains under I/O are waited for.
using VhostUser.Frontend.Tests.Infrastructure;

namespace VhostUser.Frontend.Tests;

public sealed class RingLifecycleTests
{
    [Fact]
    public void GetVringBase_SplitAfterElevenRequests_ReturnsElevenAndRestartContinues()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        var ring = driver.Start(0);
        Echo(ring, 11);

        uint stoppedAt = pair.Frontend.GetVringBase(0);

        Assert.Equal(11u, stoppedAt);
        Assert.False(pair.Queue(0).IsStarted);
        Assert.Contains("stopping 0", pair.Device.Events);
        ring.Restart(stoppedAt);
        Echo(ring, 5);
        Assert.Equal(16u, pair.Frontend.GetVringBase(0));
    }

    [Fact]
    public void GetVringBase_SplitIndexWrapsPast65535_ReturnsWrappedIndex()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        var ring = driver.Start(0, startIndex: 65530);
        Echo(ring, 11);

        Assert.Equal(5u, pair.Frontend.GetVringBase(0)); // (65530 + 11) mod 2^16
    }

    [Fact]
    public void GetVringBase_PackedAfterWraps_EncodesSlotsAndWrapCounters()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: false));
        var ring = driver.Start(0, size: 8);

        Echo(ring, 3); // 2 slots each: next slot 6, no wrap yet
        uint first = pair.Frontend.GetVringBase(0);
        Assert.Equal(0x8006_8006u, first);
        ring.Restart(first);

        Echo(ring, 2); // slot 10 = slot 2 of the second lap: both wrap counters 0
        uint second = pair.Frontend.GetVringBase(0);
        Assert.Equal(0x0002_0002u, second);
        Assert.Equal((2, false, 2, false), (ring.Queue.NextAvailSlot, ring.Queue.AvailWrapCounter, ring.Queue.NextUsedSlot, ring.Queue.UsedWrapCounter));
        ring.Restart(second);

        Echo(ring, 3); // slot 16 = slot 0 of the third lap: counters 1 again
        Assert.Equal(0x8000_8000u, pair.Frontend.GetVringBase(0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetVringBase_DeviceHoldsChains_ChainsRewoundAndOfferedAgain(bool packed)
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx: true));
        var ring = driver.Start(0);
        Echo(ring, 2);
        var expected = new Dictionary<ushort, byte[]>();
        pair.Device.Mode = FakeMode.Hold;
        for (byte i = 0; i < 3; i++)
        {
            byte[] data = [i, i, i];
            expected.Add(ring.Offer(DriverBuffer.Readable(data), DriverBuffer.Writable(3)), data);
        }
        Assert.True(SpinWait.SpinUntil(() => pair.Device.HeldCount(0) == 3, BackendPair.Timeout));

        uint stoppedAt = pair.Frontend.GetVringBase(0);

        Assert.Equal(packed ? 0x8004_8004u : 2u, stoppedAt); // the three held chains do not count
        Assert.Equal(0, pair.Device.HeldCount(0));
        pair.Device.Mode = FakeMode.Echo;
        ring.Restart(stoppedAt);
        for (int i = 0; i < 3; i++)
        {
            var used = ring.WaitUsed();
            Assert.True(expected.Remove((ushort)used.Id, out var data));
            Assert.Equal(data, ring.Queue.ReadWritten(used));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetVringBase_ChainsUnderIo_WaitsUntilDeviceCompletesThem(bool packed)
    {
        using var pair = new BackendPair(new FakeDevice { Mode = FakeMode.HoldUnderIo });
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx: false));
        var ring = driver.Start(0);
        ring.Offer(DriverBuffer.Readable(new byte[] { 7 }), DriverBuffer.Writable(1));
        ring.Offer(DriverBuffer.Readable(new byte[] { 8 }), DriverBuffer.Writable(1));
        Assert.True(SpinWait.SpinUntil(() => pair.Device.HeldCount(0) == 2, BackendPair.Timeout));

        var stop = Task.Run(() => pair.Frontend.GetVringBase(0));
        Assert.NotSame(stop, await Task.WhenAny(stop, Task.Delay(300)));
        pair.Device.CompleteHeld(0);

        Assert.Equal(packed ? 0x8004_8004u : 2u, await stop.WaitAsync(BackendPair.Timeout));
        Assert.Equal(new byte[] { 7 }, ring.Queue.ReadWritten(ring.WaitUsed()));
        Assert.Equal(new byte[] { 8 }, ring.Queue.ReadWritten(ring.WaitUsed()));
    }

    private static void Echo(DriverRing ring, int count)
    {
        for (int i = 0; i < count; i++)
        {
            byte[] data = [(byte)i, 0x5a];
            Assert.Equal(data, ring.Echo(data));
        }
    }
}
