// HostileRows.cs — the protocol hostile table (design README 1.10): one row per malformed or
// refused front-end message and the behaviour the error policy (VhostUserBackend.cs, design
// README 1.6) promises for it: a failed reply-ack, the request's own error reply, or — only for
// broken framing — a closed connection. This file: framing, unknown and unsupported requests,
// payload sizes. HostileRows.State.cs: fds, queue indices, ring set-up, memory, features, config.
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests.Protocol;

/// <summary>What the back end must do with a hostile message.</summary>
internal enum Outcome
{
    /// <summary>A reply-ack with a non-zero value (the message carried NEED_REPLY).</summary>
    FailedAck,

    /// <summary>The request's own reply, in its failure form.</summary>
    ErrorReply,

    /// <summary>The stream cannot be trusted: the connection is closed.</summary>
    Closed,
}

/// <summary>One row: the request, the expected outcome, what to send, and how to recognise the error reply.</summary>
internal sealed record HostileRow(FrontendRequest Request, Outcome Outcome, Action<HostileSession> Act, Func<RawReply, bool>? IsErrorReply = null);

internal static partial class HostileRows
{
    public static IReadOnlyDictionary<string, HostileRow> All { get; } = Build();

    private static bool U64Failure(RawReply r) => r.Payload.Length == 8 && r.U64 != 0;

    private static bool EmptyConfig(RawReply r) => r.Payload.Length == 0;

    private static Dictionary<string, HostileRow> Build()
    {
        var rows = new Dictionary<string, HostileRow>();
        AddFraming(rows);
        AddUnknownAndUnsupported(rows);
        AddPayloadSizes(rows);
        AddFds(rows);
        AddQueueIndices(rows);
        AddRingSetup(rows);
        AddMemory(rows);
        AddFeaturesAndConfig(rows);
        return rows;
    }

    private static void AddFraming(Dictionary<string, HostileRow> rows)
    {
        foreach (uint flags in new uint[] { 0x0, 0x2, 0x3, 0x11, 0x21 | 0x8 })
        {
            Closed(rows, $"header flags 0x{flags:x}", s => Raw.Send(s.Frontend, (uint)FrontendRequest.GetFeatures, (HeaderFlags)flags, []));
        }
        Closed(rows, "header size 4097", s => Raw.SendLyingHeader(s.Frontend, (uint)FrontendRequest.GetFeatures, HeaderFlags.Version1, 4097, []));
        Closed(rows, "header size 0xffffffff", s => Raw.SendLyingHeader(s.Frontend, (uint)FrontendRequest.SetFeatures, HeaderFlags.Version1, uint.MaxValue, []));
        Closed(rows, "payload cut short by a disconnect", s =>
        {
            Raw.SendLyingHeader(s.Frontend, (uint)FrontendRequest.SetFeatures, HeaderFlags.Version1 | HeaderFlags.NeedReply, 8, [1, 2, 3, 4]);
            s.Frontend.Connection.Socket.Shutdown();
        });
        // MSG_CTRUNC drops only ancillary data: the stream is intact, so just the message is refused.
        rows.Add("33 fds on one message (MSG_CTRUNC)", new HostileRow(FrontendRequest.SetOwner, Outcome.FailedAck, s =>
        {
            var header = Raw.Bytes(MessageHeader.ForRequest((uint)FrontendRequest.SetOwner, 0, needReply: true));
            s.Frontend.Connection.Socket.SendUnchecked(header, s.EventFds(UnixSocket.MaxFdsPerMessage + 1));
        }));
        rows.Add("GET_CONFIG with 40 fds (MSG_CTRUNC), payload after them", new HostileRow(FrontendRequest.GetConfig, Outcome.ErrorReply, s =>
        {
            byte[] message = [.. Raw.Bytes(MessageHeader.ForRequest((uint)FrontendRequest.GetConfig, ConfigSpaceHeader.WireSize + 4)), .. Raw.Config(0, 4, 4)];
            s.Frontend.Connection.Socket.SendUnchecked(message, s.EventFds(40));
        }, EmptyConfig));
        Ack(rows, "unknown request with a 4096-byte payload", (FrontendRequest)1000, new byte[VhostUserConnection.MaxPayloadSize]);
    }

    private static void AddUnknownAndUnsupported(Dictionary<string, HostileRow> rows)
    {
        foreach (uint code in new uint[] { 0, 46, 100, uint.MaxValue })
        {
            Ack(rows, $"unknown request {code}", (FrontendRequest)code, Raw.U64(0));
        }
        Ack(rows, "SET_LOG_FD", FrontendRequest.SetLogFd, [], eventFds: 1);
        Ack(rows, "SEND_RARP", FrontendRequest.SendRarp, Raw.U64(0x5254_0012_3456));
        Ack(rows, "NET_SET_MTU", FrontendRequest.NetSetMtu, Raw.U64(1500));
        Ack(rows, "SET_VRING_ENDIAN", FrontendRequest.SetVringEndian, Raw.State(0, 1));
        Ack(rows, "CREATE_CRYPTO_SESSION", FrontendRequest.CreateCryptoSession, new byte[64]);
        Ack(rows, "CLOSE_CRYPTO_SESSION", FrontendRequest.CloseCryptoSession, Raw.U64(1));
        Ack(rows, "SET_INFLIGHT_FD", FrontendRequest.SetInflightFd, Raw.Bytes(new InflightRegion(4096, 0, 2, 8, 0)), eventFds: 1);
        Ack(rows, "GPU_SET_SOCKET", FrontendRequest.GpuSetSocket, [], eventFds: 1);
        Ack(rows, "VRING_KICK (in-band, never offered)", FrontendRequest.VringKick, Raw.State(0, 0));
        Ack(rows, "SET_LOG_BASE", FrontendRequest.SetLogBase, Raw.Bytes(new LogRegion(4096, 0)), eventFds: 1);
        Error(rows, "IOTLB_MSG", FrontendRequest.IotlbMsg, new byte[32], U64Failure);
        Error(rows, "POSTCOPY_ADVISE", FrontendRequest.PostcopyAdvise, [], U64Failure);
        Error(rows, "POSTCOPY_LISTEN", FrontendRequest.PostcopyListen, [], U64Failure);
        Error(rows, "POSTCOPY_END", FrontendRequest.PostcopyEnd, [], U64Failure);
        Error(rows, "GET_SHARED_OBJECT", FrontendRequest.GetSharedObject, new byte[16], U64Failure);
        Error(rows, "SET_DEVICE_STATE_FD", FrontendRequest.SetDeviceStateFd, Raw.Bytes(new DeviceStateTransfer(0, 0)), U64Failure, eventFds: 1);
        Error(rows, "CHECK_DEVICE_STATE", FrontendRequest.CheckDeviceState, [], U64Failure);
        // mmap_size 0 means "no inflight area" to QEMU, and no fd may come with it.
        Error(rows, "GET_INFLIGHT_FD (never offered)", FrontendRequest.GetInflightFd, Raw.Bytes(new InflightRegion(0, 0, 2, 8, 0)),
            r => r.Payload.Length == InflightRegion.WireSize && r.Payload.AsSpan(0, 16).IndexOfAnyExcept((byte)0) < 0 && r.FdCount == 0);
        Error(rows, "GET_SHMEM_CONFIG (never offered)", FrontendRequest.GetShmemConfig, [],
            r => r.Payload.Length == 2056 && r.Payload.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        Error(rows, "GET_VRING_BASE_SKIP_DRAIN (never offered)", FrontendRequest.GetVringBaseSkipDrain, Raw.State(1, 0),
            r => r.Payload.AsSpan().SequenceEqual(Raw.State(1, 0)));
    }

    private static void AddPayloadSizes(Dictionary<string, HostileRow> rows)
    {
        foreach (var request in new[] { FrontendRequest.GetFeatures, FrontendRequest.GetProtocolFeatures, FrontendRequest.GetQueueNum, FrontendRequest.GetMaxMemSlots, FrontendRequest.GetStatus })
        {
            Error(rows, $"{request} with a payload", request, Raw.U64(0), U64Failure);
        }
        foreach (var request in new[] { FrontendRequest.SetOwner, FrontendRequest.ResetOwner, FrontendRequest.ResetDevice, FrontendRequest.SetBackendReqFd })
        {
            Ack(rows, $"{request} with a payload", request, Raw.U64(0), eventFds: request == FrontendRequest.SetBackendReqFd ? 1 : 0);
        }
        foreach (var (request, size) in new (FrontendRequest, int)[]
        {
            (FrontendRequest.SetFeatures, 8), (FrontendRequest.SetProtocolFeatures, 8), (FrontendRequest.SetStatus, 8),
            (FrontendRequest.SetVringNum, 8), (FrontendRequest.SetVringBase, 8), (FrontendRequest.SetVringEnable, 8),
            (FrontendRequest.SetVringAddr, 40), (FrontendRequest.SetVringCall, 8), (FrontendRequest.SetVringErr, 8),
            (FrontendRequest.RemMemReg, 40),
        })
        {
            Ack(rows, $"{request} payload {size - 4} bytes", request, new byte[size - 4]);
            Ack(rows, $"{request} payload {size + 8} bytes", request, new byte[size + 8]);
        }
        Ack(rows, "SET_VRING_KICK payload 4 bytes", FrontendRequest.SetVringKick, new byte[4], eventFds: 1);
        Ack(rows, "SET_VRING_KICK payload 16 bytes", FrontendRequest.SetVringKick, new byte[16], eventFds: 1);
        Ack(rows, "ADD_MEM_REG payload 32 bytes", FrontendRequest.AddMemReg, new byte[32], eventFds: 1);
        Ack(rows, "ADD_MEM_REG payload 48 bytes", FrontendRequest.AddMemReg, new byte[48], eventFds: 1);
        Ack(rows, "SET_MEM_TABLE payload 4 bytes", FrontendRequest.SetMemTable, new byte[4]);
        Ack(rows, "SET_MEM_TABLE announces 2 regions, carries 1", FrontendRequest.SetMemTable, Raw.MemTable(2, new MemoryRegion(0, 4096, 0x1000, 0)), eventFds: 2);
        Ack(rows, "SET_MEM_TABLE with 9 regions", FrontendRequest.SetMemTable,
            Raw.MemTable(9, [.. Enumerable.Range(0, 9).Select(i => new MemoryRegion((ulong)i << 20, 4096, 0x1_0000_0000 + ((ulong)i << 20), 0))]), eventFds: 8);
        Error(rows, "GET_VRING_BASE payload 4 bytes", FrontendRequest.GetVringBase, Raw.State(1, 0)[..4], r => r.Payload.AsSpan().SequenceEqual(Raw.State(1, 0)));
        Error(rows, "GET_VRING_BASE payload 12 bytes", FrontendRequest.GetVringBase, [.. Raw.State(1, 0), 0, 0, 0, 0], r => r.Payload.AsSpan().SequenceEqual(Raw.State(1, 0)));
        Error(rows, "GET_CONFIG payload shorter than its header", FrontendRequest.GetConfig, new byte[8], EmptyConfig);
        Error(rows, "GET_CONFIG size field 4, 2 data bytes", FrontendRequest.GetConfig, Raw.Config(0, 4, 2), EmptyConfig);
        Ack(rows, "SET_CONFIG size field 4, 8 data bytes", FrontendRequest.SetConfig, Raw.Config(0, 4, 8));
    }

    private static void Ack(Dictionary<string, HostileRow> rows, string name, FrontendRequest request, byte[] payload, int eventFds = 0, Action<HostileSession>? setup = null) =>
        rows.Add(name, new HostileRow(request, Outcome.FailedAck, s =>
        {
            setup?.Invoke(s);
            s.Send(request, payload, s.EventFds(eventFds));
        }));

    private static void Error(Dictionary<string, HostileRow> rows, string name, FrontendRequest request, byte[] payload, Func<RawReply, bool> isErrorReply, int eventFds = 0, Action<HostileSession>? setup = null) =>
        rows.Add(name, new HostileRow(request, Outcome.ErrorReply, s =>
        {
            setup?.Invoke(s);
            s.Send(request, payload, s.EventFds(eventFds));
        }, isErrorReply));

    private static void Closed(Dictionary<string, HostileRow> rows, string name, Action<HostileSession> act) =>
        rows.Add(name, new HostileRow(FrontendRequest.None, Outcome.Closed, act));
}
