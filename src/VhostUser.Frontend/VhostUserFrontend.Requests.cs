// VhostUserFrontend.Requests.cs — one method per front-end request (vhost-user-protocol.md §4),
// with NEED_REPLY where QEMU sets it (§9).
using System.Runtime.InteropServices;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

public sealed partial class VhostUserFrontend
{
    /// <summary>GET_FEATURES.</summary>
    public VirtioFeatures GetFeatures() => (VirtioFeatures)QueryU64(FrontendRequest.GetFeatures);

    /// <summary>SET_FEATURES.</summary>
    public void SetFeatures(VirtioFeatures features) =>
        Command(FrontendRequest.SetFeatures, new U64Payload((ulong)features), ack: false);

    /// <summary>SET_OWNER.</summary>
    public void SetOwner() => Command(FrontendRequest.SetOwner, [], ack: false);

    /// <summary>RESET_OWNER (deprecated).</summary>
    public void ResetOwner() => Command(FrontendRequest.ResetOwner, [], ack: false);

    /// <summary>GET_PROTOCOL_FEATURES.</summary>
    public ProtocolFeatures GetProtocolFeatures() => (ProtocolFeatures)QueryU64(FrontendRequest.GetProtocolFeatures);

    /// <summary>SET_PROTOCOL_FEATURES; later requests use NEED_REPLY if REPLY_ACK is among them.</summary>
    public void SetProtocolFeatures(ProtocolFeatures features)
    {
        Command(FrontendRequest.SetProtocolFeatures, new U64Payload((ulong)features), ack: false);
        AckedProtocolFeatures = features;
    }

    /// <summary>GET_QUEUE_NUM.</summary>
    public ulong GetQueueNum() => QueryU64(FrontendRequest.GetQueueNum);

    /// <summary>GET_MAX_MEM_SLOTS.</summary>
    public ulong GetMaxMemSlots() => QueryU64(FrontendRequest.GetMaxMemSlots);

    /// <summary>SET_MEM_TABLE with every region of <paramref name="memory"/> (at most 8).</summary>
    public void SetMemTable(SharedGuestMemory memory)
    {
        var regions = memory.Regions;
        var payload = new byte[MemoryTableHeader.WireSize + regions.Count * MemoryRegion.WireSize];
        MemoryMarshal.Write(payload, new MemoryTableHeader((uint)regions.Count, 0));
        var fds = new FileDescriptor[regions.Count];
        for (int i = 0; i < regions.Count; i++)
        {
            MemoryMarshal.Write(payload.AsSpan(MemoryTableHeader.WireSize + i * MemoryRegion.WireSize), Describe(regions[i]));
            fds[i] = regions[i].Descriptor;
        }
        Command(FrontendRequest.SetMemTable, payload, fds);
    }

    /// <summary>ADD_MEM_REG for one region.</summary>
    public void AddMemReg(SharedRegion region) =>
        Command(FrontendRequest.AddMemReg, new SingleMemoryRegion(0, Describe(region)), [region.Descriptor]);

    /// <summary>REM_MEM_REG for one region.</summary>
    public void RemMemReg(SharedRegion region) =>
        Command(FrontendRequest.RemMemReg, new SingleMemoryRegion(0, Describe(region)));

    /// <summary>SET_VRING_NUM.</summary>
    public void SetVringNum(int index, int size) => Command(FrontendRequest.SetVringNum, new VringState((uint)index, (uint)size), ack: false);

    /// <summary>SET_VRING_ADDR.</summary>
    public void SetVringAddr(int index, RingUserAddresses addresses, uint flags = 0, ulong logGuestAddress = 0) =>
        Command(FrontendRequest.SetVringAddr,
            new VringAddress((uint)index, flags, addresses.Descriptors, addresses.DeviceArea, addresses.DriverArea, logGuestAddress), ack: false);

    /// <summary>SET_VRING_BASE.</summary>
    public void SetVringBase(int index, uint value) => Command(FrontendRequest.SetVringBase, new VringState((uint)index, value), ack: false);

    /// <summary>GET_VRING_BASE: stops the ring and returns its position.</summary>
    public uint GetVringBase(int index)
    {
        var request = new VringState((uint)index, 0);
        Send(FrontendRequest.GetVringBase, MemoryMarshal.AsBytes(new ReadOnlySpan<VringState>(in request)), needReply: false);
        var state = ReceiveReply<VringState>(FrontendRequest.GetVringBase);
        if (state.Index != (uint)index)
        {
            throw new ProtocolException(ProtocolError.InvalidReply, $"GET_VRING_BASE for queue {index} answered for queue {state.Index}");
        }
        return state.Num;
    }

    /// <summary>SET_VRING_KICK (null: no fd).</summary>
    public void SetVringKick(int index, EventFd? kick) => SendVringFd(FrontendRequest.SetVringKick, index, kick);

    /// <summary>SET_VRING_CALL (null: no fd).</summary>
    public void SetVringCall(int index, EventFd? call) => SendVringFd(FrontendRequest.SetVringCall, index, call);

    /// <summary>SET_VRING_ERR (null: no fd).</summary>
    public void SetVringErr(int index, EventFd? err) => SendVringFd(FrontendRequest.SetVringErr, index, err);

    /// <summary>SET_VRING_ENABLE.</summary>
    public void SetVringEnable(int index, bool enable) =>
        Command(FrontendRequest.SetVringEnable, new VringState((uint)index, enable ? 1u : 0u));

    /// <summary>SET_BACKEND_REQ_FD: hands the back end its end of a request channel.</summary>
    public void SetBackendReqFd(UnixSocket backendEnd) => Command(FrontendRequest.SetBackendReqFd, [], [backendEnd.Descriptor]);

    /// <summary>GET_CONFIG: <paramref name="size"/> bytes at <paramref name="offset"/>.</summary>
    public byte[] GetConfig(uint offset, uint size)
    {
        var request = new byte[ConfigSpaceHeader.WireSize + size];
        MemoryMarshal.Write(request, new ConfigSpaceHeader(offset, size, ConfigSpaceHeader.FlagFrontend));
        Send(FrontendRequest.GetConfig, request, needReply: false);
        using var reply = ReceiveReplyMessage(FrontendRequest.GetConfig);
        if (reply.Payload.Length != request.Length)
        {
            throw new ProtocolException(ProtocolError.DeviceError,
                $"GET_CONFIG answered {reply.Payload.Length} bytes instead of {request.Length} (the back end refused)");
        }
        return reply.Payload[ConfigSpaceHeader.WireSize..].ToArray();
    }

    /// <summary>SET_CONFIG.</summary>
    public void SetConfig(uint offset, ReadOnlySpan<byte> data, uint flags = ConfigSpaceHeader.FlagFrontend)
    {
        var request = new byte[ConfigSpaceHeader.WireSize + data.Length];
        MemoryMarshal.Write(request, new ConfigSpaceHeader(offset, (uint)data.Length, flags));
        data.CopyTo(request.AsSpan(ConfigSpaceHeader.WireSize));
        Command(FrontendRequest.SetConfig, request);
    }

    /// <summary>RESET_DEVICE.</summary>
    public void ResetDevice() => Command(FrontendRequest.ResetDevice, [], ack: false);

    /// <summary>SET_STATUS.</summary>
    public void SetStatus(byte status) => Command(FrontendRequest.SetStatus, new U64Payload(status), ack: false);

    /// <summary>GET_STATUS.</summary>
    public byte GetStatus() => (byte)QueryU64(FrontendRequest.GetStatus);

    /// <summary>GET_INFLIGHT_FD: the back end's inflight area (fd is null if it has none).</summary>
    public InflightRegion GetInflightFd(int queueCount, int queueSize, out FileDescriptor? fd)
    {
        var request = new InflightRegion(0, 0, (ushort)queueCount, (ushort)queueSize, 0);
        Send(FrontendRequest.GetInflightFd, MemoryMarshal.AsBytes(new ReadOnlySpan<InflightRegion>(in request)), needReply: false);
        using var reply = ReceiveReplyMessage(FrontendRequest.GetInflightFd);
        var region = reply.Read<InflightRegion>();
        fd = reply.Fds.Count == 1 ? reply.Fds.Take(0) : null;
        return region;
    }

    /// <summary>SET_INFLIGHT_FD.</summary>
    public void SetInflightFd(InflightRegion region, FileDescriptor fd) =>
        Command(FrontendRequest.SetInflightFd, region, [fd], ack: false);

    private void SendVringFd(FrontendRequest request, int index, EventFd? fd)
    {
        var value = VringFileIndex.Create(index, fd is null);
        if (fd is null)
        {
            Command(request, value);
        }
        else
        {
            Command(request, value, [fd.Descriptor]);
        }
    }

    private static MemoryRegion Describe(SharedRegion region) =>
        new(region.GuestPhysicalAddress, region.Size, region.UserAddress, region.MmapOffset);
}
