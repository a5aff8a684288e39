// VhostUserFrontend.Negotiate.cs — the start-up sequence QEMU performs on connect
// (vhost-user-protocol.md §15 step 1).
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

public sealed partial class VhostUserFrontend
{
    /// <summary>Protocol features this front end implements (what it acknowledges if offered).</summary>
    public const ProtocolFeatures SupportedProtocolFeatures = ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck
        | ProtocolFeatures.BackendReq | ProtocolFeatures.BackendSendFd | ProtocolFeatures.Config
        | ProtocolFeatures.ResetDevice | ProtocolFeatures.ConfigureMemSlots | ProtocolFeatures.Status
        | ProtocolFeatures.InflightShmfd;

    /// <summary>
    /// GET_FEATURES, GET/SET_PROTOCOL_FEATURES (the offer ∩ <paramref name="wanted"/>),
    /// GET_QUEUE_NUM and GET_MAX_MEM_SLOTS where negotiated, then SET_OWNER.
    /// </summary>
    public NegotiationResult Negotiate(ProtocolFeatures wanted = SupportedProtocolFeatures)
    {
        var features = GetFeatures();
        var offered = ProtocolFeatures.None;
        if ((features & VirtioFeatures.ProtocolFeatures) != 0)
        {
            offered = GetProtocolFeatures();
            SetProtocolFeatures(offered & wanted);
        }
        ulong? queues = (AckedProtocolFeatures & ProtocolFeatures.Mq) != 0 ? GetQueueNum() : null;
        ulong? slots = (AckedProtocolFeatures & ProtocolFeatures.ConfigureMemSlots) != 0 ? GetMaxMemSlots() : null;
        SetOwner();
        return new NegotiationResult(features, offered, AckedProtocolFeatures, queues, slots);
    }

    /// <summary>
    /// Starts ring <paramref name="index"/> the way QEMU does: NUM, BASE, ADDR, CALL, KICK, then
    /// ENABLE if PROTOCOL_FEATURES was negotiated.
    /// </summary>
    public void StartQueue(int index, DriverQueue queue, Unix.EventFd kick, Unix.EventFd? call, bool enable = true)
    {
        SetVringNum(index, queue.Size);
        SetVringBase(index, queue.InitialBase);
        SetVringAddr(index, queue.UserAddresses);
        SetVringCall(index, call);
        SetVringKick(index, kick);
        if (enable && AckedProtocolFeatures != ProtocolFeatures.None)
        {
            SetVringEnable(index, true);
        }
    }
}
