// NotificationTests.cs — notification suppression in both directions (virtqueues.md §4 and §6):
// kicks (device → driver hints: NO_NOTIFY, avail_event, packed device event structure) and
// interrupts (driver → device hints: NO_INTERRUPT, used_event, packed driver event structure),
// plus NOTIFY_ON_EMPTY and the packed DESC offsets across a lap change.
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class NotificationTests
{
    private static readonly DriverBuffer OneByte = DriverBuffer.Writable(1);

    [Fact]
    public void DisableNotification_SplitWithoutEventIdx_SetsNoNotifyAndDriverDoesNotKick()
    {
        using var h = QueueHarness.Create(packed: false);
        h.Device.DisableNotification();
        Assert.Equal(SplitRing.UsedNoNotify, h.Driver.ReadUsedFlags());

        h.Driver.Offer(OneByte);
        Assert.False(h.Driver.NeedsKick());

        Assert.True(h.Device.EnableNotification()); // the re-check sees the buffer that came meanwhile
        Assert.Equal(0, h.Driver.ReadUsedFlags());
        h.Driver.Offer(OneByte);
        Assert.True(h.Driver.NeedsKick());
    }

    [Theory]
    [MemberData(nameof(RingConfigs.PackedAndEventIdx), MemberType = typeof(RingConfigs))]
    public void EnableNotification_NothingPending_ReturnsFalse(bool packed, bool eventIdx)
    {
        using var h = QueueHarness.Create(packed, eventIdx);
        h.Driver.Offer(OneByte);
        h.Pop();
        Assert.False(h.Device.EnableNotification());
    }

    [Fact]
    public void NeedsNotification_SplitNoInterrupt_IsSuppressedUntilTheDriverClearsIt()
    {
        using var h = QueueHarness.Create(packed: false, size: 8);
        for (int i = 0; i < 2; i++)
        {
            h.Driver.Offer(OneByte);
        }
        h.Driver.DisableInterrupts();
        h.Device.AddUsed(h.Pop(), 0);
        Assert.False(h.Device.NeedsNotification());

        h.Driver.EnableInterrupts();
        h.Device.AddUsed(h.Pop(), 0);
        Assert.True(h.Device.NeedsNotification());
    }

    [Fact]
    public void EnableNotification_SplitEventIdx_WritesAvailEventAndLeavesFlagsClear()
    {
        using var h = QueueHarness.Create(packed: false, eventIdx: true, startIndex: 40);
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Pop();
        h.Pop();

        h.Device.DisableNotification();
        Assert.Equal(0, h.Driver.ReadUsedFlags()); // with EVENT_IDX the flag is never used
        Assert.False(h.Device.EnableNotification());
        Assert.Equal((ushort)42, h.Driver.ReadAvailEvent());
        Assert.Equal(0, h.Driver.ReadUsedFlags());
    }

    [Fact]
    public void NeedsKick_SplitEventIdx_KicksOnlyWhenAvailIndexPassesAvailEvent()
    {
        using var h = QueueHarness.Create(packed: false, eventIdx: true, size: 8);
        h.Device.EnableNotification(); // avail_event = 0

        h.Driver.Offer(OneByte);
        Assert.True(h.Driver.NeedsKick());  // 0 in [0, 1)
        h.Driver.Offer(OneByte);
        Assert.False(h.Driver.NeedsKick()); // 0 not in [1, 2): the device has not asked again

        h.Pop();
        h.Pop();
        h.Device.EnableNotification();      // avail_event = 2
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        Assert.True(h.Driver.NeedsKick());  // 2 in [2, 4)
    }

    [Fact]
    public void NeedsNotification_SplitEventIdx_NotifiesWhenUsedIndexPassesUsedEvent()
    {
        using var h = QueueHarness.Create(packed: false, eventIdx: true, size: 8, startIndex: 65534);
        for (int i = 0; i < 4; i++)
        {
            h.Driver.Offer(OneByte);
        }
        var chains = Enumerable.Range(0, 4).Select(_ => h.Pop()).ToList();
        h.Driver.SetUsedEvent(0); // "interrupt me when used entry 0 (after the wrap) is published"

        var decisions = new List<bool>();
        foreach (var chain in chains)
        {
            h.Device.AddUsed(chain, 0);
            decisions.Add(h.Device.NeedsNotification());
        }

        // used idx goes 65535, 0, 1, 2. The first decision after start always notifies; after
        // that only publishing entry 0 (used.idx 0 → 1) crosses used_event.
        Assert.Equal([true, false, true, false], decisions);
    }

    [Fact]
    public void NeedsNotification_SplitEventIdx_IgnoresNoInterrupt()
    {
        using var h = QueueHarness.Create(packed: false, eventIdx: true);
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Device.AddUsed(h.Pop(), 0);
        Assert.True(h.Device.NeedsNotification());

        h.Driver.SetAvailFlags(SplitRing.AvailNoInterrupt);
        h.Driver.SetUsedEvent(1);
        h.Device.AddUsed(h.Pop(), 0);
        Assert.True(h.Device.NeedsNotification());
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void NeedsNotification_SplitNotifyOnEmpty_NotifiesDespiteSuppressionOnceTheQueueIsEmpty(bool eventIdx, bool notifyOnEmpty)
    {
        using var h = QueueHarness.Create(packed: false, eventIdx, extra: notifyOnEmpty ? VirtioFeatures.NotifyOnEmpty : VirtioFeatures.None);
        for (int i = 0; i < 3; i++)
        {
            h.Driver.Offer(OneByte);
        }
        var first = h.Pop();
        var second = h.Pop();
        h.Device.AddUsed(first, 0);
        Assert.True(h.Device.NeedsNotification()); // first decision after start
        h.Driver.DisableInterrupts();

        h.Device.AddUsed(second, 0);
        Assert.False(h.Device.NeedsNotification()); // a buffer is still available: not empty
        h.Device.AddUsed(h.Pop(), 0);
        Assert.Equal(notifyOnEmpty, h.Device.NeedsNotification()); // nothing available, nothing in flight
    }

    [Fact]
    public void NeedsNotification_SplitEventIdxAfterANotifyOnEmpty_DoesNotFireForTheEventItCovered()
    {
        using var h = QueueHarness.Create(packed: false, eventIdx: true, size: 8, extra: VirtioFeatures.NotifyOnEmpty);
        h.Driver.Offer(OneByte);
        h.Device.AddUsed(h.Pop(), 0); // used.idx 1
        h.Driver.SetUsedEvent(5);
        Assert.True(h.Device.NeedsNotification()); // the first decision after start
        h.Driver.Offer(OneByte);
        h.Device.AddUsed(h.Pop(), 0); // used.idx 2: the ring is empty
        Assert.True(h.Device.NeedsNotification()); // NOTIFY_ON_EMPTY, although used_event is 5

        h.Driver.SetUsedEvent(1); // an event that the interrupt for used.idx 2 already covered
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Device.AddUsed(h.Pop(), 0); // used.idx 3, one buffer still available

        Assert.False(h.Device.NeedsNotification());
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void NeedsNotification_PackedNotifyOnEmpty_NotifiesDespiteDisableOnceTheQueueIsEmpty(bool eventIdx, bool notifyOnEmpty)
    {
        using var h = QueueHarness.Create(packed: true, eventIdx, extra: notifyOnEmpty ? VirtioFeatures.NotifyOnEmpty : VirtioFeatures.None);
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Driver.DisableInterrupts();
        h.Device.AddUsed(h.Pop(), 0);
        Assert.False(h.Device.NeedsNotification()); // a buffer is still available: not empty

        h.Device.AddUsed(h.Pop(), 0);

        Assert.Equal(notifyOnEmpty, h.Device.NeedsNotification()); // nothing available, nothing in flight
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NeedsNotification_NotifyOnEmptyWithChainInFlight_StaysSuppressed(bool packed)
    {
        using var h = QueueHarness.Create(packed, extra: VirtioFeatures.NotifyOnEmpty);
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Driver.DisableInterrupts();
        var held = h.Pop();
        h.Device.AddUsed(h.Pop(), 0);

        Assert.False(h.Device.NeedsNotification()); // the device still holds a chain
        h.Device.AddUsed(held, 0);
        Assert.True(h.Device.NeedsNotification());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DisableNotification_Packed_WritesDisableAndDriverDoesNotKick(bool eventIdx)
    {
        using var h = QueueHarness.Create(packed: true, eventIdx);
        h.Device.DisableNotification();
        Assert.Equal(PackedRing.EventFlagsDisable, h.Driver.ReadDeviceEvent().Flags);

        h.Driver.Offer(OneByte);
        Assert.False(h.Driver.NeedsKick());

        Assert.True(h.Device.EnableNotification());
        Assert.Equal(eventIdx ? PackedRing.EventFlagsDesc : PackedRing.EventFlagsEnable, h.Driver.ReadDeviceEvent().Flags);
    }

    [Fact]
    public void EnableNotification_PackedWithoutEventIdx_DriverKicksEveryTime()
    {
        using var h = QueueHarness.Create(packed: true);
        h.Device.EnableNotification();
        for (int i = 0; i < 3; i++)
        {
            h.Driver.Offer(OneByte);
            Assert.True(h.Driver.NeedsKick());
        }
    }

    [Fact]
    public void EnableNotification_PackedEventIdx_DescribesNextAvailSlotAndWrap()
    {
        using var h = QueueHarness.Create(packed: true, eventIdx: true, size: 4);
        h.Device.EnableNotification();
        Assert.Equal(new EventSuppression(0x8000, PackedRing.EventFlagsDesc), h.Driver.ReadDeviceEvent());
        RunChains(h, 3);                  // device at slot 3, wrap 1
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);          // slots 3 and 0 (lap 2)
        h.Pop();
        h.Pop();                          // device at slot 1, wrap 0

        Assert.False(h.Device.EnableNotification());
        Assert.Equal(new EventSuppression(1, PackedRing.EventFlagsDesc), h.Driver.ReadDeviceEvent());
        h.Driver.Offer(OneByte);
        Assert.True(h.Driver.NeedsKick());  // slot 1 of lap 2 became available
        h.Driver.Offer(OneByte);
        Assert.False(h.Driver.NeedsKick()); // slot 2: not asked for
    }

    [Fact]
    public void NeedsKick_PackedEventIdxEventFromPreviousLap_KicksForAChainThatWraps()
    {
        using var h = QueueHarness.Create(packed: true, eventIdx: true, size: 4);
        RunChains(h, 3);
        h.Device.EnableNotification();                       // slot 3, wrap 1

        h.Driver.Offer(OneByte, OneByte);                    // slots 3 and 0: the driver's wrap flips
        Assert.True(h.Driver.NeedsKick());
        h.Driver.Offer(OneByte);
        Assert.False(h.Driver.NeedsKick());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NeedsNotification_PackedDriverDisable_IsSuppressedUntilEnabled(bool eventIdx)
    {
        using var h = QueueHarness.Create(packed: true, eventIdx);
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Driver.DisableInterrupts();
        h.Device.AddUsed(h.Pop(), 0);
        Assert.False(h.Device.NeedsNotification());

        h.TakeUsed(); // a driver re-enables after consuming what it has (else it polls first)
        h.Driver.EnableInterrupts();
        h.Device.AddUsed(h.Pop(), 0);
        Assert.True(h.Device.NeedsNotification());
    }

    [Fact]
    public void NeedsNotification_PackedEventIdx_NotifiesExactlyAtTheDescribedSlotAcrossTheLapChange()
    {
        using var h = QueueHarness.Create(packed: true, eventIdx: true, size: 4);
        for (int i = 0; i < 4; i++)
        {
            h.Driver.Offer(OneByte);
        }
        var chains = Enumerable.Range(0, 4).Select(_ => h.Pop()).ToList();
        h.Driver.SetDriverEvent(PackedRing.EventFlagsDesc, 2 | 0x8000); // slot 2 of lap 1

        var decisions = new List<bool>();
        foreach (var chain in chains)
        {
            h.Device.AddUsed(chain, 0);
            decisions.Add(h.Device.NeedsNotification());
        }

        // First decision after start; then the used descriptor at slot 2; the step into lap 2
        // (slot 3 → 0) must not look like a huge window that contains slot 2 again.
        Assert.Equal([true, false, true, false], decisions);
    }

    [Fact]
    public void NeedsNotification_PackedEventIdxFullLapBetweenDecisions_Notifies()
    {
        using var h = QueueHarness.Create(packed: true, eventIdx: true, size: 4);
        for (int i = 0; i < 4; i++)
        {
            h.Driver.Offer(OneByte);
        }
        var chains = Enumerable.Range(0, 4).Select(_ => h.Pop()).ToList();
        h.Device.AddUsed(chains[0], 0);
        Assert.True(h.Device.NeedsNotification());           // signalled at slot 1, lap 1
        h.TakeUsed();
        h.Driver.EnableInterrupts();                         // DESC at the driver's next used: slot 1, lap 1
        h.Driver.Offer(OneByte);
        chains.Add(h.Pop());

        foreach (var chain in chains.Skip(1))
        {
            h.Device.AddUsed(chain, 0);                      // four completions: back at slot 1, lap 2
        }

        Assert.True(h.Device.NeedsNotification());           // slot 1 of lap 1 was written in between
    }

    [Fact]
    public void NeedsNotification_PackedEventIdxMoreThanALapBetweenDecisions_Notifies()
    {
        // Linear used positions p: slot p % 3, lap p / 3 + 1 (odd laps have wrap counter 1).
        using var h = QueueHarness.Create(packed: true, eventIdx: true, size: 3);
        for (int i = 0; i < 3; i++)
        {
            h.Driver.Offer(OneByte);
            h.Device.AddUsed(h.Pop(), 0);
        }
        Assert.True(h.Device.NeedsNotification());   // decided at p = 3: slot 0, lap 2
        for (int i = 0; i < 3; i++)
        {
            h.TakeUsed();
        }
        RunChains(h, 5);                             // p = 8: slot 2, lap 3, all taken back
        h.Driver.EnableInterrupts();                 // DESC: slot 2 of lap 3
        h.Driver.Offer(OneByte);
        h.Driver.Offer(OneByte);
        h.Device.AddUsed(h.Pop(), 0);                // writes slot 2 of lap 3 (the event) …
        h.Device.AddUsed(h.Pop(), 0);                // … and slot 0 of lap 4: p = 10 has the parity of p = 3

        Assert.True(h.Device.NeedsNotification());
    }

    /// <summary>Offers, pops, completes and takes back <paramref name="count"/> one-buffer chains.</summary>
    private static void RunChains(QueueHarness h, int count)
    {
        for (int i = 0; i < count; i++)
        {
            h.Driver.Offer(OneByte);
            h.Device.AddUsed(h.Pop(), 0);
            h.TakeUsed();
        }
    }
}
