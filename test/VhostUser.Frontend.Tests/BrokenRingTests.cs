// BrokenRingTests.cs — stopping a ring the guest broke, and completions that arrive after their
// ring stopped (vhost-user-protocol.md §8: GET_VRING_BASE drains in-flight I/O first). A broken
// ring still lets its chains go, so GET_VRING_BASE does not sit out the whole drain timeout; the
// device drops held buffers on stop, broken or not; and a completion from before a restart is
// dropped instead of breaking the ring that runs now.
using System.Diagnostics;
using VhostUser.Frontend.Tests.Infrastructure;

namespace VhostUser.Frontend.Tests;

public sealed class BrokenRingTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    [Fact]
    public void GetVringBase_BrokenRingWithChainsUnderIo_ReturnsOnceTheDeviceCompletesThem()
    {
        using var pair = new BackendPair(new FakeDevice { Mode = FakeMode.HoldUnderIo });
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        var ring = driver.Start(0);
        ring.Offer(DriverBuffer.Readable(new byte[] { 1 }), DriverBuffer.Writable(1));
        ring.Offer(DriverBuffer.Readable(new byte[] { 2 }), DriverBuffer.Writable(1));
        Assert.True(SpinWait.SpinUntil(() => pair.Device.HeldCount(0) == 2, BackendPair.Timeout));
        BreakRing(pair, ring);

        pair.Device.CompleteHeld(0); // the I/O finishes after the ring broke
        var clock = Stopwatch.StartNew();
        uint stoppedAt = pair.Frontend.GetVringBase(0);

        Assert.True(clock.Elapsed < Prompt, $"GET_VRING_BASE took {clock.Elapsed}");
        Assert.Equal(2u, stoppedAt);
        Assert.False(ring.Queue.TryTakeUsed(out _)); // nothing is written to a broken ring
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetVringBase_BrokenRingWithHeldBuffers_DeviceDropsThemAndStopIsPrompt(bool packed)
    {
        using var pair = new BackendPair(new FakeDevice { Mode = FakeMode.Hold });
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx: true));
        var ring = driver.Start(0);
        ring.Offer(DriverBuffer.Writable(4));
        ring.Offer(DriverBuffer.Writable(4));
        Assert.True(SpinWait.SpinUntil(() => pair.Device.HeldCount(0) == 2, BackendPair.Timeout));
        BreakRing(pair, ring);

        var clock = Stopwatch.StartNew();
        uint stoppedAt = pair.Frontend.GetVringBase(0);

        Assert.True(clock.Elapsed < Prompt, $"GET_VRING_BASE took {clock.Elapsed}");
        Assert.Contains("stopping 0", pair.Device.Events);
        Assert.Equal(0, pair.Device.HeldCount(0));
        Assert.Equal(packed ? 0x8000_8000u : 0u, stoppedAt); // the held buffers were given back
        Assert.False(pair.Queue(0).IsStarted);
    }

    [Fact]
    public void Complete_ChainFromBeforeADrainTimeout_DroppedAndTheRestartedRingKeepsWorking()
    {
        using var pair = new BackendPair(new FakeDevice { Mode = FakeMode.HoldUnderIo }, drainTimeout: TimeSpan.FromMilliseconds(200));
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        var ring = driver.Start(0);
        ring.Offer(DriverBuffer.Readable(new byte[] { 7 }), DriverBuffer.Writable(1));
        Assert.True(SpinWait.SpinUntil(() => pair.Device.HeldCount(0) == 1, BackendPair.Timeout));
        uint stoppedAt = pair.Frontend.GetVringBase(0); // gives up on the held chain after 200 ms
        pair.Device.Mode = FakeMode.Echo;
        ring.Restart(stoppedAt);
        Assert.Equal([1, 2], ring.Echo([1, 2]));

        pair.Device.CompleteHeld(0); // the late completion of the chain popped before the stop

        Assert.False(pair.Queue(0).IsBroken);
        Assert.Equal([3, 4], ring.Echo([3, 4])); // and no used element for the stale chain came first
        Assert.Equal(0, pair.Queue(0).InFlightCount);
    }

    /// <summary>Publishes head 200 in an 8-entry ring and kicks: the device's next pop breaks the queue.</summary>
    private static void BreakRing(BackendPair pair, DriverRing ring)
    {
        if (ring.Queue.IsPacked)
        {
            ring.Queue.WritePackedDescriptor(ring.Queue.NextAvailSlot, new Virtio.PackedDescriptor(0, 16, 200,
                ring.Queue.AvailWrapCounter ? Virtio.DescriptorFlags.PackedAvail | Virtio.DescriptorFlags.Write : Virtio.DescriptorFlags.PackedUsed | Virtio.DescriptorFlags.Write));
        }
        else
        {
            ring.Queue.PublishHead(200);
        }
        ring.Kick.Signal();
        Assert.True(SpinWait.SpinUntil(() => pair.Queue(0).IsBroken, BackendPair.Timeout), "the ring did not break");
    }
}
