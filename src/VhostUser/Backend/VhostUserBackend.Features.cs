// VhostUserBackend.Features.cs — virtio and protocol feature negotiation
// (vhost-user-protocol.md §4, §6, §7). The framework owns the ring bits and the protocol bits;
// the device contributes its own device bits and any extra protocol features it implements.
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Virtio;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    /// <summary>Ring and transport bits the framework implements for every device.</summary>
    public const VirtioFeatures FrameworkFeatures = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc
        | VirtioFeatures.EventIdx | VirtioFeatures.NotifyOnEmpty | VirtioFeatures.ProtocolFeatures;

    /// <summary>
    /// Protocol features the framework implements. CONFIG is added when the device has a config
    /// space. Not offered: LOG_SHMFD (no dirty logging yet), INBAND_NOTIFICATIONS and XEN_MMAP
    /// (QEMU implements neither), PAGEFAULT, IOTLB-related and crypto features.
    /// </summary>
    public const ProtocolFeatures FrameworkProtocolFeatures = ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck
        | ProtocolFeatures.BackendReq | ProtocolFeatures.BackendSendFd | ProtocolFeatures.ResetDevice
        | ProtocolFeatures.ConfigureMemSlots | ProtocolFeatures.Status;

    private VirtioFeatures _ackedFeatures;
    private ProtocolFeatures _ackedProtocolFeatures;

    /// <summary>Everything GET_FEATURES offers for <paramref name="device"/>.</summary>
    public static VirtioFeatures OfferedFeatures(VirtioDevice device) =>
        device.DeviceFeatures | FrameworkFeatures | (device.SupportsPackedRing ? VirtioFeatures.RingPacked : 0);

    /// <summary>Everything GET_PROTOCOL_FEATURES offers for <paramref name="device"/>.</summary>
    public static ProtocolFeatures OfferedProtocolFeatures(VirtioDevice device) =>
        FrameworkProtocolFeatures | device.ExtraProtocolFeatures | (device.ConfigSize > 0 ? ProtocolFeatures.Config : 0);

    private bool HasProtocolFeature(ProtocolFeatures feature) => (_ackedProtocolFeatures & feature) != 0;

    private bool GetFeatures(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _connection.Reply((uint)m.Request, new U64Payload((ulong)OfferedFeatures(_device)));
        return true;
    }

    private bool SetFeatures(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var features = (VirtioFeatures)m.Read<U64Payload>().Value;
        var offered = OfferedFeatures(_device);
        if ((features & ~offered) != 0)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"SET_FEATURES acks 0x{(ulong)(features & ~offered):x}, which was never offered");
        }
        if (AnyRingStarted() && ((features ^ _ackedFeatures) & ~VirtioFeatures.VhostLogAll) != 0)
        {
            throw new ProtocolException(ProtocolError.InvalidState, "SET_FEATURES changes ring features while rings run");
        }
        _ackedFeatures = features;
        Log.FeaturesAcked(_logger, (ulong)features);
        _device.AckedFeatures = features & ~VirtioFeatures.ProtocolFeatures;
        _device.OnFeaturesNegotiated(_device.AckedFeatures);
        // Without PROTOCOL_FEATURES the rings have no enable message: they are enabled at once
        // (rst "Ring states").
        if ((features & VirtioFeatures.ProtocolFeatures) == 0)
        {
            for (int i = 0; i < _queues.Length; i++)
            {
                SetRingEnabled(i, true);
            }
        }
        return false;
    }

    private bool GetProtocolFeatures(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _connection.Reply((uint)m.Request, new U64Payload((ulong)OfferedProtocolFeatures(_device)));
        return true;
    }

    private bool SetProtocolFeatures(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var features = (ProtocolFeatures)m.Read<U64Payload>().Value;
        var offered = OfferedProtocolFeatures(_device);
        if ((features & ~offered) != 0)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"SET_PROTOCOL_FEATURES acks 0x{(ulong)(features & ~offered):x}, which was never offered");
        }
        _ackedProtocolFeatures = features;
        Log.ProtocolFeaturesAcked(_logger, (ulong)features);
        return false;
    }

    private bool GetQueueNum(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _connection.Reply((uint)m.Request, new U64Payload((ulong)_queues.Length));
        return true;
    }
}
