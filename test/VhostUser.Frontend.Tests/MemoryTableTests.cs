// MemoryTableTests.cs — memory-table changes against a running queue (vhost-user-protocol.md §10;
// design README 1.5): ADD_MEM_REG / REM_MEM_REG while a thread keeps requests flowing, SET_MEM_TABLE
// replacement, overlapping regions refused with a failed reply-ack, and the slot limit.
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Memory;
using VhostUser.Protocol;

namespace VhostUser.Frontend.Tests;

public sealed class MemoryTableTests
{
    private const ulong RegionBAddress = 0x1_0000_0000;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void AddRemMemReg_WhileQueueRuns_RequestsInBothRegionsAnswered(bool packed, bool eventIdx)
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed, eventIdx));
        var ring = driver.Start(0, size: 8);
        using var requester = new HotplugRequester(ring, driver.Memory);
        requester.Start();
        requester.WaitFor(requestsInA: 50, requestsInB: 0);

        var regionB = driver.Memory.AddRegion(RegionBAddress, 1 << 20, mmapOffset: 4096);
        pair.Frontend.AddMemReg(regionB);
        Assert.Equal(2, pair.Queue(0).Memory.Regions.Count);
        requester.UseRegion(regionB);
        requester.WaitFor(requestsInA: 100, requestsInB: 50);

        requester.StopUsingRegion();
        pair.Frontend.RemMemReg(regionB);
        driver.Memory.RemoveRegion(regionB);
        regionB.Dispose();
        Assert.Single(pair.Queue(0).Memory.Regions);
        requester.WaitFor(requestsInA: requester.RequestsInA + 50, requestsInB: 0);
        requester.Stop();

        Assert.False(pair.Queue(0).IsBroken);
    }

    [Fact]
    public void RemMemReg_BufferInRemovedRegion_QueueBrokenAndChainNotProcessed()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        var ring = driver.Start(0);
        var regionB = driver.Memory.AddRegion(RegionBAddress, 1 << 20);
        pair.Frontend.AddMemReg(regionB);
        pair.Frontend.RemMemReg(regionB);

        // The guest still points a buffer into the unplugged region: the back end must refuse it.
        ring.Offer(DriverBuffer.At(new GuestAddress(RegionBAddress + 64), 16, writable: false), DriverBuffer.Writable(16));

        Assert.True(SpinWait.SpinUntil(() => pair.Queue(0).IsBroken, BackendPair.Timeout));
        Assert.Equal(0, pair.Device.Completed(0));
        Assert.Equal(0x1_0000_0000UL, regionB.GuestPhysicalAddress);
    }

    [Fact]
    public void SetMemTable_ReplacedWhileQueueRuns_RequestsContinueInNewTable()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: true));
        var ring = driver.Start(0);
        Assert.Equal("before"u8.ToArray(), ring.Echo("before"u8.ToArray()));

        var regionC = driver.Memory.AddRegion(RegionBAddress, 1 << 20);
        pair.Frontend.SetMemTable(driver.Memory);
        Assert.Equal(2, pair.Queue(0).Memory.Regions.Count);
        Assert.Equal("in C"u8.ToArray(), EchoThrough(ring, driver.Memory, regionC, "in C"u8.ToArray()));

        driver.Memory.RemoveRegion(regionC);
        pair.Frontend.SetMemTable(driver.Memory);
        regionC.Dispose();
        Assert.Single(pair.Queue(0).Memory.Regions);
        Assert.Equal("after"u8.ToArray(), ring.Echo("after"u8.ToArray()));
        Assert.False(pair.Queue(0).IsBroken);
    }

    [Theory]
    [InlineData(0x1000UL, 0x7e00_0000_0000UL)]       // guest-physical overlap, distinct user addresses
    [InlineData(0x2_0000_0000UL, 0x7f00_0000_2000UL)] // distinct guest-physical, user-address overlap
    public void AddMemReg_OverlapsExistingRegion_FailedAckAndTableUnchanged(ulong guestAddress, ulong userAddress)
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        var ring = driver.Start(0);
        using var other = new SharedGuestMemory();
        var overlapping = other.AddRegion(guestAddress, 1 << 20, userAddress: userAddress);

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.AddMemReg(overlapping));

        Assert.Equal(ProtocolError.DeviceError, e.Error); // the back end answered a non-zero reply-ack
        Assert.Single(pair.Queue(0).Memory.Regions);
        Assert.Equal("still fine"u8.ToArray(), ring.Echo("still fine"u8.ToArray()));
    }

    [Fact]
    public void AddMemReg_MoreRegionsThanMaxMemSlots_RefusedUntilOneIsRemoved()
    {
        using var pair = new BackendPair(new FakeDevice());
        ulong slots = pair.Frontend.Negotiate().MaxMemorySlots!.Value;
        using var memory = new SharedGuestMemory();
        var regions = new List<SharedRegion>();
        for (ulong i = 0; i < slots + 1; i++)
        {
            regions.Add(memory.AddRegion(i * 0x1_0000, 4096));
        }
        for (int i = 0; i < (int)slots; i++)
        {
            pair.Frontend.AddMemReg(regions[i]);
        }

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.AddMemReg(regions[^1]));
        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.Equal((int)slots, pair.Queue(0).Memory.Regions.Count);

        pair.Frontend.RemMemReg(regions[0]);
        pair.Frontend.AddMemReg(regions[^1]);
        Assert.Equal((int)slots, pair.Queue(0).Memory.Regions.Count);
    }

    [Fact]
    public void RemMemReg_UnknownRegion_FailedAck()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        using var other = new SharedGuestMemory();
        var stranger = other.AddRegion(RegionBAddress, 4096);

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.RemMemReg(stranger));

        Assert.Equal(ProtocolError.DeviceError, e.Error);
        Assert.Single(pair.Queue(0).Memory.Regions);
    }

    /// <summary>One echo whose readable and writable buffers both live in <paramref name="region"/>.</summary>
    private static byte[] EchoThrough(DriverRing ring, SharedGuestMemory memory, SharedRegion region, byte[] data)
    {
        var input = SharedGuestMemory.Allocate(region, (ulong)data.Length);
        var output = SharedGuestMemory.Allocate(region, (ulong)data.Length);
        memory.Write(input, data);
        ushort id = ring.Offer(DriverBuffer.At(input, (uint)data.Length, writable: false), DriverBuffer.At(output, (uint)data.Length, writable: true));
        var used = ring.WaitUsed();
        Assert.Equal(id, (ushort)used.Id);
        return ring.Queue.ReadWritten(used);
    }
}
