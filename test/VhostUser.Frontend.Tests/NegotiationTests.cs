// NegotiationTests.cs — the start-up sequence against the framework: what GET_FEATURES and
// GET_PROTOCOL_FEATURES offer, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS, SET_OWNER with a reply-ack,
// fd passing with SET_MEM_TABLE, and the rule that SET_FEATURES without bit 30 enables every ring.
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Memory;
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests;

public sealed class NegotiationTests
{
    [Fact]
    public void Negotiate_DeviceWithoutConfig_OffersFrameworkFeaturesAndProtocolFeatures()
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 3, deviceFeatures: (VirtioFeatures)0b10_0001));
        var result = pair.Frontend.Negotiate();

        // Bits 0 and 5 (device), 24, 28, 29, 30, 32, 34 (framework): written out from the spec tables.
        Assert.Equal(0x0000_0005_7100_0021UL, (ulong)result.Features);
        // MQ 0, REPLY_ACK 3, BACKEND_REQ 5, BACKEND_SEND_FD 10, RESET_DEVICE 13, CONFIGURE_MEM_SLOTS 15, STATUS 16.
        Assert.Equal(0x1_A429UL, (ulong)result.ProtocolFeatures);
        Assert.Equal(result.ProtocolFeatures, result.AckedProtocolFeatures);
        Assert.Equal(3UL, result.QueueCount);
        Assert.Equal(509UL, result.MaxMemorySlots);
    }

    [Fact]
    public void Negotiate_DeviceWithConfig_AlsoOffersConfig()
    {
        using var pair = new BackendPair(new FakeDevice(configSize: 24));
        var result = pair.Frontend.Negotiate();
        Assert.Equal(0x1_A629UL, (ulong)result.ProtocolFeatures); // + CONFIG (bit 9)
    }

    [Fact]
    public void GetFeatures_DeviceWithoutPackedSupport_RingPackedNotOffered()
    {
        using var pair = new BackendPair(new FakeDevice(supportsPacked: false));
        var features = pair.Frontend.GetFeatures();
        Assert.Equal(VirtioFeatures.None, features & VirtioFeatures.RingPacked);
        Assert.Equal(VirtioFeatures.Version1 | VirtioFeatures.EventIdx, features & (VirtioFeatures.Version1 | VirtioFeatures.EventIdx));
    }

    [Fact]
    public void SetOwner_NeedReplyAfterReplyAck_AnsweredWithZeroAck()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.GetFeatures();
        pair.Frontend.SetProtocolFeatures(ProtocolFeatures.ReplyAck);
        Raw.Send(pair.Frontend, FrontendRequest.SetOwner, [], needReply: true);
        var reply = Raw.Receive(pair.Frontend);
        Assert.NotNull(reply);
        Assert.Equal((uint)FrontendRequest.SetOwner, reply.Request);
        Assert.Equal(HeaderFlags.Version1 | HeaderFlags.Reply, reply.Flags);
        Assert.Equal(0UL, reply.U64);
    }

    [Fact]
    public void SetFeatures_AckedFeatures_DeviceSeesThemWithoutBit30()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: true));
        var expected = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc | VirtioFeatures.RingPacked | VirtioFeatures.EventIdx;
        Assert.Equal(expected, pair.Device.NegotiatedFeatures);
        Assert.Equal(expected, pair.Device.AckedFeatures);
        Assert.Contains($"features {(ulong)expected:x}", pair.Device.Events);
    }

    [Fact]
    public void SetMemTable_TwoRegionsWithMmapOffset_BackEndMapsTheSameBytes()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate();
        using var memory = new SharedGuestMemory();
        memory.AddRegion(0, 1 << 20);
        memory.AddRegion(0x4000_0000, 1 << 20, mmapOffset: 3 * 4096 + 512);
        memory.Write(new GuestAddress(0x10), "front"u8);
        memory.Write(new GuestAddress(0x4000_0100), "second region"u8);

        pair.Frontend.SetMemTable(memory);

        var backend = pair.Queue(0).Memory;
        Assert.Equal(2, backend.Regions.Count);
        Assert.Equal([0UL, 0x4000_0000UL], backend.Regions.Select(r => r.GuestPhysicalAddress));
        var bytes = new byte[13];
        backend.Read(new GuestAddress(0x4000_0100), bytes);
        Assert.Equal("second region"u8.ToArray(), bytes);
        backend.Read(new GuestAddress(0x10), bytes.AsSpan(0, 5));
        Assert.Equal("front"u8.ToArray(), bytes[..5]);
        // Shared, not copied: a later front-end write shows through the back end's mapping.
        memory.Write(new GuestAddress(0x4000_0100), "SECOND"u8);
        backend.Read(new GuestAddress(0x4000_0100), bytes.AsSpan(0, 6));
        Assert.Equal("SECOND"u8.ToArray(), bytes[..6]);
    }

    [Fact]
    public void SetFeatures_WithoutProtocolFeaturesBit_RingsEnabledAtOnce()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.GetFeatures();
        pair.Frontend.SetOwner();
        pair.Frontend.SetFeatures(VirtioFeatures.Version1);
        using var memory = SharedGuestMemory.Create(1 << 20);
        pair.Frontend.SetMemTable(memory);
        var queue = DriverQueue.Create(memory, 8, VirtioFeatures.Version1);
        using var ring = new DriverRing(pair.Frontend, 0, queue);
        pair.Frontend.StartQueue(0, queue, ring.Kick, ring.Call, enable: false);
        pair.Frontend.GetFeatures(); // no REPLY_ACK: a request with a reply is the barrier (as QEMU does)

        Assert.True(pair.Queue(0).IsEnabled);
        Assert.Equal("no enable needed"u8.ToArray(), ring.Echo("no enable needed"u8.ToArray()));
    }

    [Fact]
    public void SetVringEnable_WithProtocolFeatures_RingWaitsForEnable()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        var queue = DriverQueue.Create(driver.Memory, 8, driver.Features & ~VirtioFeatures.ProtocolFeatures);
        using var ring = new DriverRing(pair.Frontend, 0, queue);
        pair.Frontend.StartQueue(0, queue, ring.Kick, ring.Call, enable: false);

        ring.Offer(DriverBuffer.Readable(new byte[] { 1, 2, 3 }), DriverBuffer.Writable(3));
        Assert.False(ring.HasUsedWithin(TimeSpan.FromMilliseconds(200)));
        Assert.True(pair.Queue(0).IsStarted);
        Assert.False(pair.Queue(0).IsEnabled);

        pair.Frontend.SetVringEnable(0, true);
        Assert.Equal(new byte[] { 1, 2, 3 }, queue.ReadWritten(ring.WaitUsed()));
    }
}
