// InflightRecoveryTests.cs — a back end that dies with chains in flight, and the next one that
// starts the ring on the same inflight area (vhost-user-protocol.md §11): the chains come back in
// the order they were first fetched (not in id order), before any new chain, each exactly once;
// completions that reached the used ring before the crash are not redone; a crash inside a
// completion is rolled forward or back as the rst prescribes.
using System.Buffers.Binary;
using VhostUser.Frontend;
using VhostUser.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Tests.Virtio;

public sealed class InflightRecoveryTests
{
    public static TheoryData<bool, bool> Shapes => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Restart_ChainsInFlight_ResubmittedInFetchOrderBeforeNewChains(bool packed, bool indirect)
    {
        using var rig = InflightRig.Create(packed, size: 16, indirect);
        var device = rig.StartDevice();
        ScrambleIds(rig, device, rounds: packed && !indirect ? 2 : 1);
        var ids = new List<ushort>();
        for (byte tag = 1; tag <= 5; tag++)
        {
            ids.Add(Offer(rig, tag, indirect));
        }
        Assert.True(ids.SequenceEqual(ids.OrderByDescending(i => i)), $"premise: fetch order is not id order ({string.Join(",", ids)})");
        var chains = Enumerable.Range(0, 5).Select(_ => InflightRig.Pop(device)).ToList();
        device.AddUsed(chains[1], 1);
        device.AddUsed(chains[3], 1);

        var next = rig.RestartAfterCrash(); // the old Virtqueue is abandoned, as a killed process would be

        Assert.Equal(InflightRecovery.Recovered, next.LastRecovery);
        Assert.Equal(3, next.ResubmitCount);
        var resubmitted = Enumerable.Range(0, 3).Select(_ => InflightRig.Pop(next)).ToList();
        Assert.Equal(new byte[] { 1, 3, 5 }, resubmitted.Select(c => InflightRig.Tag(c)));
        Assert.Equal(new[] { ids[0], ids[2], ids[4] }, resubmitted.Select(c => c.Id));
        Assert.False(next.TryPop(out _));
        ushort fresh = Offer(rig, 6, indirect);
        var sixth = InflightRig.Pop(next);
        Assert.Equal((fresh, (byte)6), (sixth.Id, InflightRig.Tag(sixth)));
        foreach (var chain in resubmitted.Append(sixth))
        {
            next.AddUsed(chain, 1);
        }
        var returned = new List<uint>();
        while (rig.Driver.TryTakeUsed(out var used))
        {
            returned.Add(used.Id);
        }
        Assert.Equal(ids.Append(fresh).Select(i => (uint)i).Order(), returned.Order());
        Assert.Equal(0, rig.Driver.InFlightCount);
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Restart_TwiceWithResubmittedChainsStillInFlight_KeepsFirstFetchOrder(bool packed)
    {
        using var rig = InflightRig.Create(packed, size: 16);
        var device = rig.StartDevice();
        for (byte tag = 1; tag <= 3; tag++)
        {
            rig.Offer(tag);
            InflightRig.Pop(device);
        }
        var second = rig.RestartAfterCrash();
        var first = InflightRig.Pop(second); // tag 1, resubmitted
        second.AddUsed(first, 1);
        InflightRig.Pop(second);             // tag 2, resubmitted, still in flight
        rig.Offer(4);
        InflightRig.Pop(second);             // tag 3, resubmitted
        InflightRig.Pop(second);             // tag 4, new

        var third = rig.RestartAfterCrash();

        Assert.Equal(new byte[] { 2, 3, 4 }, Enumerable.Range(0, 3).Select(_ => InflightRig.Tag(InflightRig.Pop(third))));
        Assert.False(third.TryPop(out _));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Restart_AfterCleanStop_NothingResubmittedAndPositionsContinue(bool packed)
    {
        using var rig = InflightRig.Create(packed, size: 8);
        var device = rig.StartDevice();
        for (byte tag = 1; tag <= 6; tag++)
        {
            rig.Offer(tag);
            device.AddUsed(InflightRig.Pop(device), 1);
            Assert.True(rig.Driver.TryTakeUsed(out _));
        }
        uint ringBase = device.GetBase(); // GET_VRING_BASE after a drain

        var next = rig.StartDevice(ringBase);

        Assert.Equal((InflightRecovery.Recovered, 0), (next.LastRecovery!.Value, next.ResubmitCount));
        rig.Offer(7);
        var chain = InflightRig.Pop(next);
        Assert.Equal(7, InflightRig.Tag(chain));
        next.AddUsed(chain, 1);
        Assert.True(rig.Driver.TryTakeUsed(out var used));
        Assert.Equal(chain.Id, (ushort)used.Id);
    }

    [Fact]
    public void Restart_SplitCrashAfterUsedIdxBeforeFlagCleared_CompletionNotRedone()
    {
        using var rig = InflightRig.Create(packed: false, size: 8);
        var device = rig.StartDevice();
        rig.Offer(1);
        ushort b = rig.Offer(2);
        InflightRig.Pop(device);
        device.AddUsed(InflightRig.Pop(device), 1);
        // Undo the two stores after used->idx: the flag and the used_idx copy (a crash right there).
        rig.Region[16 + 16 * b] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(rig.Region[14..], 0);

        var next = rig.RestartAfterCrash();

        Assert.Equal(1, next.ResubmitCount);
        Assert.Equal(1, InflightRig.Tag(InflightRig.Pop(next)));
        Assert.Equal(0, rig.Region[16 + 16 * b]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[14..]));
    }

    [Fact]
    public void Restart_PackedCrashAfterUsedDescriptorBeforeCommit_RolledForward()
    {
        using var rig = InflightRig.Create(packed: true, size: 8);
        var device = rig.StartDevice();
        rig.Offer(1);
        rig.Offer(2);
        var a = InflightRig.Pop(device);
        InflightRig.Pop(device);
        var header = rig.Region[..32].ToArray();
        device.AddUsed(a, 1);
        // Undo the commit (old_* fields) and the flag: the used descriptor is in the ring already.
        RestoreCommittedFields(rig, header);
        rig.Region[32] = 1;

        var next = rig.RestartAfterCrash();

        Assert.Equal(1, next.ResubmitCount);
        Assert.Equal(2, InflightRig.Tag(InflightRig.Pop(next)));
        Assert.True(rig.Driver.TryTakeUsed(out var used));
        Assert.Equal(a.Id, (ushort)used.Id);
    }

    [Fact]
    public void Restart_PackedCrashBeforeUsedDescriptorWritten_RolledBackAndResubmitted()
    {
        using var rig = InflightRig.Create(packed: true, size: 8);
        var device = rig.StartDevice();
        rig.Offer(1);
        rig.Offer(2);
        var a = InflightRig.Pop(device);
        InflightRig.Pop(device);
        var header = rig.Region[..32].ToArray();
        var slot = rig.Driver.ReadPackedDescriptor(0);
        device.AddUsed(a, 1);
        // Undo everything after the free-list and used_idx update: the descriptor store never happened.
        RestoreCommittedFields(rig, header);
        rig.Region[32] = 1;
        rig.Driver.WritePackedDescriptor(0, slot);

        var next = rig.RestartAfterCrash();

        Assert.Equal(new byte[] { 1, 2 }, Enumerable.Range(0, 2).Select(_ => InflightRig.Tag(InflightRig.Pop(next))));
        Assert.False(rig.Driver.TryTakeUsed(out _));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void Start_RegionWrittenForAnotherQueueSize_IsReinitialized(bool packed)
    {
        using var rig = InflightRig.Create(packed, size: 8);
        BinaryPrimitives.WriteUInt16LittleEndian(rig.Region[8..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(rig.Region[10..], 4);
        rig.Region[packed ? 32 : 16] = 1;

        var device = rig.StartDevice();

        Assert.Equal((InflightRecovery.Reinitialized, 0), (device.LastRecovery!.Value, device.ResubmitCount));
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(rig.Region[10..]));
        Assert.False(device.TryPop(out _));
    }

    [Theory]
    [MemberData(nameof(RingConfigs.Packed), MemberType = typeof(RingConfigs))]
    public void RewindInFlight_ClearsTheRegion_NextStartResubmitsNothing(bool packed)
    {
        using var rig = InflightRig.Create(packed, size: 8);
        var device = rig.StartDevice();
        rig.Offer(1);
        rig.Offer(2);
        InflightRig.Pop(device);
        InflightRig.Pop(device);

        Assert.Equal(2, device.RewindInFlight());
        var next = rig.StartDevice(device.GetBase());

        Assert.Equal(0, next.ResubmitCount);
        Assert.Equal(new byte[] { 1, 2 }, Enumerable.Range(0, 2).Select(_ => InflightRig.Tag(InflightRig.Pop(next))));
    }

    /// <summary>Puts back old_free_head, old_used_idx and old_used_wrap_counter from a header snapshot.</summary>
    private static void RestoreCommittedFields(InflightRig rig, byte[] header)
    {
        header.AsSpan(14, 2).CopyTo(rig.Region[14..]);
        header.AsSpan(18, 2).CopyTo(rig.Region[18..]);
        rig.Region[21] = header[21];
    }

    private static ushort Offer(InflightRig rig, byte tag, bool indirect) =>
        rig.Driver.Offer([DriverBuffer.Readable(new[] { tag }), DriverBuffer.Writable(1)], indirect);

    /// <summary>Fills the ring and completes in reverse order, so the driver hands out ids in descending order next.</summary>
    private static void ScrambleIds(InflightRig rig, Virtqueue device, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            var chains = new List<DescriptorChain>();
            while (rig.Driver.CanOffer(2, rig.Driver.Features.HasFlag(VirtioFeatures.IndirectDesc)))
            {
                Offer(rig, 0, rig.Driver.Features.HasFlag(VirtioFeatures.IndirectDesc));
                chains.Add(InflightRig.Pop(device));
            }
            chains.Reverse();
            foreach (var chain in chains)
            {
                device.AddUsed(chain, 1);
            }
            while (rig.Driver.TryTakeUsed(out _))
            {
            }
        }
    }
}
