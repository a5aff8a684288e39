// HostileRows.State.cs — hostile-table rows about state: the fds a message carries, queue indices,
// ring set-up out of order or out of bounds, memory regions, features never offered, config
// ranges. Ring areas are checked when the ring starts (SET_VRING_KICK), because the memory table
// may legitimately change between SET_VRING_ADDR and the kick.
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Protocol;

internal static partial class HostileRows
{
    private const ulong Unmapped = SharedGuestMemory.UserAddressBase + (16 << 20);

    private static void AddFds(Dictionary<string, HostileRow> rows)
    {
        Ack(rows, "SET_VRING_KICK without its fd", FrontendRequest.SetVringKick, Raw.FileIndex(0), setup: s => s.ConfigureRing());
        Ack(rows, "SET_VRING_KICK with 2 fds", FrontendRequest.SetVringKick, Raw.FileIndex(0), eventFds: 2, setup: s => s.ConfigureRing());
        Ack(rows, "SET_VRING_KICK NOFD with an fd", FrontendRequest.SetVringKick, Raw.FileIndex(0, noFd: true), eventFds: 1, setup: s => s.ConfigureRing());
        Ack(rows, "SET_VRING_KICK NOFD (polling, unsupported)", FrontendRequest.SetVringKick, Raw.FileIndex(0, noFd: true), setup: s => s.ConfigureRing());
        Ack(rows, "SET_VRING_KICK index word with bit 9 set", FrontendRequest.SetVringKick, Raw.U64(1 << 9), eventFds: 1, setup: s => s.ConfigureRing());
        Ack(rows, "SET_VRING_CALL without its fd", FrontendRequest.SetVringCall, Raw.FileIndex(0));
        Ack(rows, "SET_VRING_CALL NOFD with an fd", FrontendRequest.SetVringCall, Raw.FileIndex(0, noFd: true), eventFds: 1);
        Ack(rows, "SET_VRING_ERR with 2 fds", FrontendRequest.SetVringErr, Raw.FileIndex(0), eventFds: 2);
        AckWith(rows, "SET_VRING_CALL with a read-only fd", FrontendRequest.SetVringCall, Raw.FileIndex(0), s => s.ReadOnlyFd());
        AckWith(rows, "SET_VRING_CALL with a socket", FrontendRequest.SetVringCall, Raw.FileIndex(0), s => s.SocketFd());
        AckWith(rows, "SET_VRING_ERR with a read-only fd", FrontendRequest.SetVringErr, Raw.FileIndex(0), s => s.ReadOnlyFd());
        Ack(rows, "SET_MEM_TABLE 1 region, 0 fds", FrontendRequest.SetMemTable, Raw.MemTable(1, new MemoryRegion(0, 4096, 0x1000, 0)));
        Ack(rows, "SET_MEM_TABLE 1 region, 2 fds", FrontendRequest.SetMemTable, Raw.MemTable(1, new MemoryRegion(0, 4096, 0x1000, 0)), eventFds: 2);
        Ack(rows, "ADD_MEM_REG with 0 fds", FrontendRequest.AddMemReg, Raw.Single(new MemoryRegion(0x1_0000_0000, 4096, 0x7e00_0000_0000, 0)));
        Ack(rows, "ADD_MEM_REG with 2 fds", FrontendRequest.AddMemReg, Raw.Single(new MemoryRegion(0x1_0000_0000, 4096, 0x7e00_0000_0000, 0)), eventFds: 2);
        Ack(rows, "SET_FEATURES with an fd", FrontendRequest.SetFeatures, Raw.U64((ulong)HostileSession.SplitFeatures), eventFds: 1);
        Ack(rows, "SET_BACKEND_REQ_FD without its fd", FrontendRequest.SetBackendReqFd, []);
        Error(rows, "GET_FEATURES with an fd", FrontendRequest.GetFeatures, [], U64Failure, eventFds: 1);
    }

    private static void AddQueueIndices(Dictionary<string, HostileRow> rows)
    {
        foreach (uint index in new uint[] { 2, 255, uint.MaxValue })
        {
            Ack(rows, $"SET_VRING_NUM queue {index}", FrontendRequest.SetVringNum, Raw.State(index, 8));
            Ack(rows, $"SET_VRING_BASE queue {index}", FrontendRequest.SetVringBase, Raw.State(index, 0));
            Ack(rows, $"SET_VRING_ENABLE queue {index}", FrontendRequest.SetVringEnable, Raw.State(index, 1));
            Ack(rows, $"SET_VRING_ADDR queue {index}", FrontendRequest.SetVringAddr, Raw.Bytes(new VringAddress(index, 0, 0x7f00_0000_0000, 0x7f00_0000_1000, 0x7f00_0000_2000, 0)));
            Error(rows, $"GET_VRING_BASE queue {index}", FrontendRequest.GetVringBase, Raw.State(index, 0), r => r.Payload.AsSpan().SequenceEqual(Raw.State(index, 0)));
        }
        foreach (int index in new[] { 2, 255 })
        {
            Ack(rows, $"SET_VRING_KICK queue {index}", FrontendRequest.SetVringKick, Raw.FileIndex(index), eventFds: 1);
            Ack(rows, $"SET_VRING_CALL queue {index}", FrontendRequest.SetVringCall, Raw.FileIndex(index), eventFds: 1);
            Ack(rows, $"SET_VRING_ERR queue {index}", FrontendRequest.SetVringErr, Raw.FileIndex(index), eventFds: 1);
        }
    }

    private static void AddRingSetup(Dictionary<string, HostileRow> rows)
    {
        Ack(rows, "SET_VRING_NUM 0", FrontendRequest.SetVringNum, Raw.State(0, 0));
        Ack(rows, "SET_VRING_NUM 2048 (above MaxQueueSize)", FrontendRequest.SetVringNum, Raw.State(0, 2048));
        Ack(rows, "split SET_VRING_NUM 6, refused at the kick", FrontendRequest.SetVringKick, Raw.FileIndex(0), eventFds: 1, setup: s => s.ConfigureRing(size: 6));
        Ack(rows, "SET_VRING_KICK before SET_VRING_NUM", FrontendRequest.SetVringKick, Raw.FileIndex(0), eventFds: 1, setup: s => s.Frontend.SetVringAddr(0, s.Ring.UserAddresses));
        Ack(rows, "SET_VRING_KICK before SET_VRING_ADDR", FrontendRequest.SetVringKick, Raw.FileIndex(0), eventFds: 1, setup: s => s.Frontend.SetVringNum(0, 8));
        AckWith(rows, "SET_VRING_ADDR flags bit 1", FrontendRequest.SetVringAddr, s => Raw.Bytes(s.RingAddress with { Flags = 2 }));
        AckWith(rows, "SET_VRING_ADDR with VHOST_VRING_F_LOG (no dirty logging)", FrontendRequest.SetVringAddr,
            s => Raw.Bytes(s.RingAddress with { Flags = VringAddress.FlagLog, LogGuestAddress = 0x8000 }));
        AckWithRing(rows, "descriptor table not in the memory table", s => s.RingAddress with { DescriptorUserAddress = Unmapped });
        AckWithRing(rows, "available ring not in the memory table", s => s.RingAddress with { AvailUserAddress = Unmapped });
        AckWithRing(rows, "used ring runs past the region end", s => s.RingAddress with { UsedUserAddress = SharedGuestMemory.UserAddressBase + (1 << 20) - 16 });
        Ack(rows, "SET_VRING_NUM while the ring runs", FrontendRequest.SetVringNum, Raw.State(0, 4), setup: s => s.StartRing());
        Ack(rows, "SET_VRING_BASE while the ring runs", FrontendRequest.SetVringBase, Raw.State(0, 3), setup: s => s.StartRing());
        AckWith(rows, "SET_VRING_ADDR moves a running ring", FrontendRequest.SetVringAddr, s =>
        {
            s.StartRing();
            return Raw.Bytes(s.RingAddress with { DescriptorUserAddress = s.RingAddress.DescriptorUserAddress + 4096 });
        });
        Ack(rows, "SET_VRING_ENABLE num 2", FrontendRequest.SetVringEnable, Raw.State(0, 2));
        Ack(rows, "packed SET_VRING_BASE slot beyond the ring, refused at the kick", FrontendRequest.SetVringKick, Raw.FileIndex(0), eventFds: 1, setup: s =>
        {
            s.Frontend.SetFeatures(HostileSession.SplitFeatures | VirtioFeatures.RingPacked);
            s.ConfigureRing();
            s.Frontend.SetVringBase(0, 0x8000_8009);
        });
    }

    private static void AddMemory(Dictionary<string, HostileRow> rows)
    {
        AckWithFds(rows, "SET_MEM_TABLE regions overlap in guest memory", FrontendRequest.SetMemTable,
            Raw.MemTable(2, new MemoryRegion(0, 8192, 0x7e00_0000_0000, 0), new MemoryRegion(4096, 8192, 0x7d00_0000_0000, 0)), 2);
        AckWithFds(rows, "SET_MEM_TABLE regions overlap in front-end addresses", FrontendRequest.SetMemTable,
            Raw.MemTable(2, new MemoryRegion(0, 8192, 0x7e00_0000_0000, 0), new MemoryRegion(0x10_0000, 8192, 0x7e00_0000_1000, 0)), 2);
        AckWithFds(rows, "SET_MEM_TABLE region larger than its memfd", FrontendRequest.SetMemTable,
            Raw.MemTable(1, new MemoryRegion(0, 1 << 20, 0x7e00_0000_0000, 0)), 1);
        AckWithFds(rows, "ADD_MEM_REG overlaps the existing region", FrontendRequest.AddMemReg,
            Raw.Single(new MemoryRegion(4096, 8192, 0x7e00_0000_0000, 0)), 1);
        AckWithFds(rows, "ADD_MEM_REG size 0", FrontendRequest.AddMemReg, Raw.Single(new MemoryRegion(0x1_0000_0000, 0, 0x7e00_0000_0000, 0)), 1);
        AckWithFds(rows, "ADD_MEM_REG mmap offset overflows", FrontendRequest.AddMemReg,
            Raw.Single(new MemoryRegion(0x1_0000_0000, 8192, 0x7e00_0000_0000, ulong.MaxValue - 4096)), 1);
        AckWithFds(rows, "ADD_MEM_REG region larger than its memfd", FrontendRequest.AddMemReg,
            Raw.Single(new MemoryRegion(0x1_0000_0000, 1 << 20, 0x7e00_0000_0000, 4096)), 1);
        Ack(rows, "REM_MEM_REG of a region never added", FrontendRequest.RemMemReg, Raw.Single(new MemoryRegion(0x1_0000_0000, 4096, 0x7e00_0000_0000, 0)));
    }

    private static void AddFeaturesAndConfig(Dictionary<string, HostileRow> rows)
    {
        Ack(rows, "SET_FEATURES ACCESS_PLATFORM (never offered)", FrontendRequest.SetFeatures, Raw.U64((ulong)(HostileSession.SplitFeatures | VirtioFeatures.AccessPlatform)));
        Ack(rows, "SET_FEATURES device bit 0 (never offered)", FrontendRequest.SetFeatures, Raw.U64((ulong)HostileSession.SplitFeatures | 1));
        Ack(rows, "SET_FEATURES adds RING_PACKED while a ring runs", FrontendRequest.SetFeatures,
            Raw.U64((ulong)(HostileSession.SplitFeatures | VirtioFeatures.RingPacked)), setup: s => s.StartRing());
        Ack(rows, "SET_PROTOCOL_FEATURES LOG_SHMFD (never offered)", FrontendRequest.SetProtocolFeatures, Raw.U64((ulong)(ProtocolFeatures.ReplyAck | ProtocolFeatures.LogShmfd)));
        Ack(rows, "SET_PROTOCOL_FEATURES INBAND_NOTIFICATIONS (never offered)", FrontendRequest.SetProtocolFeatures, Raw.U64((ulong)(ProtocolFeatures.ReplyAck | ProtocolFeatures.InbandNotifications)));
        Ack(rows, "SET_PROTOCOL_FEATURES bit 63", FrontendRequest.SetProtocolFeatures, Raw.U64((ulong)ProtocolFeatures.ReplyAck | (1UL << 63)));
        Ack(rows, "SET_STATUS 0x100", FrontendRequest.SetStatus, Raw.U64(0x100));
        Error(rows, "GET_CONFIG offset 250 size 8 (past 256)", FrontendRequest.GetConfig, Raw.Config(250, 8, 8), EmptyConfig);
        Error(rows, "GET_CONFIG size 257", FrontendRequest.GetConfig, Raw.Config(0, 257, 257), EmptyConfig);
        Error(rows, "GET_CONFIG past the device's 16 bytes", FrontendRequest.GetConfig, Raw.Config(8, 16, 16), EmptyConfig);
        Error(rows, "GET_CONFIG flags 2", FrontendRequest.GetConfig, Raw.Config(0, 4, 4, flags: 2), EmptyConfig);
        Ack(rows, "SET_CONFIG offset 250 size 8 (past 256)", FrontendRequest.SetConfig, Raw.Config(250, 8, 8));
    }

    /// <summary>SET_VRING_KICK after SET_VRING_NUM 8 and the SET_VRING_ADDR <paramref name="address"/> builds.</summary>
    private static void AckWithRing(Dictionary<string, HostileRow> rows, string name, Func<HostileSession, VringAddress> address) =>
        rows.Add(name, new HostileRow(FrontendRequest.SetVringKick, Outcome.FailedAck, s =>
        {
            s.Frontend.SetVringNum(0, 8);
            Raw.Send(s.Frontend, FrontendRequest.SetVringAddr, Raw.Bytes(address(s)), needReply: false);
            s.Send(FrontendRequest.SetVringKick, Raw.FileIndex(0), s.EventFds(1));
        }));

    private static void AckWith(Dictionary<string, HostileRow> rows, string name, FrontendRequest request, Func<HostileSession, byte[]> payload) =>
        rows.Add(name, new HostileRow(request, Outcome.FailedAck, s => s.Send(request, payload(s))));

    /// <summary>A request carrying the one fd <paramref name="fd"/> makes.</summary>
    private static void AckWith(Dictionary<string, HostileRow> rows, string name, FrontendRequest request, byte[] payload, Func<HostileSession, FileDescriptor> fd) =>
        rows.Add(name, new HostileRow(request, Outcome.FailedAck, s => s.Send(request, payload, fd(s))));

    /// <summary>A memory request carrying <paramref name="memfds"/> 16 KiB memfds.</summary>
    private static void AckWithFds(Dictionary<string, HostileRow> rows, string name, FrontendRequest request, byte[] payload, int memfds) =>
        rows.Add(name, new HostileRow(request, Outcome.FailedAck, s =>
            s.Send(request, payload, [.. Enumerable.Range(0, memfds).Select(_ => s.MemFd(16384))])));
}
