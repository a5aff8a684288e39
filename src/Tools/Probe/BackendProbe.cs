// BackendProbe.cs — the probe itself: the start-up sequence QEMU sends on connect
// (vhost-user-protocol.md §15 step 1: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
// GET_MAX_MEM_SLOTS, SET_OWNER) and a GET_CONFIG, without memory or rings, so any back end can
// be asked what it offers and left as it was.
//
// Config size: vhost-user does not say how large a device's config space is, and back ends built
// on libvhost-user, and ours, refuse a GET_CONFIG larger than their config (a zero-size reply;
// the connection goes on). Without --config-size the probe asks for common sizes, largest first,
// and keeps the first one accepted. A back end that accepts any size up to 256 (reading zeros
// past its config) answers the first try, and the probe then prints 256 bytes.
using VhostUser.Frontend;
using VhostUser.Protocol;

namespace VhostUser.Tools.Probe;

internal static class BackendProbe
{
    /// <summary>Protocol features acknowledged when offered: what the probe's requests need.</summary>
    public const ProtocolFeatures Acknowledged = ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck
        | ProtocolFeatures.Config | ProtocolFeatures.ConfigureMemSlots;

    /// <summary>
    /// Config sizes tried without --config-size, largest first: VHOST_USER_MAX_CONFIG_SIZE and
    /// the sizes of common devices' config structs (input 136, blk 96 or 60, fs 40/44, scsi 36,
    /// gpu 24, snd 16, net 12, vsock 8, i2c 4; devices.md).
    /// </summary>
    public static readonly int[] CommonConfigSizes = [256, 136, 128, 96, 64, 60, 48, 44, 40, 36, 32, 24, 16, 12, 8, 4];

    /// <summary>
    /// Negotiates on <paramref name="frontend"/> and reads the config space (of
    /// <paramref name="configSize"/> bytes if given). Throws <see cref="ProtocolException"/> or
    /// <see cref="IOException"/> when the back end misbehaves or does not answer.
    /// </summary>
    public static ProbeReport Run(VhostUserFrontend frontend, int? configSize)
    {
        var result = frontend.Negotiate(Acknowledged);
        byte[]? config = (result.ProtocolFeatures & ProtocolFeatures.Config) != 0 ? ReadConfig(frontend, configSize) : null;
        return new ProbeReport(result.Features, result.ProtocolFeatures, result.QueueCount, result.MaxMemorySlots, config);
    }

    private static byte[] ReadConfig(VhostUserFrontend frontend, int? configSize)
    {
        if (configSize is { } size)
        {
            return frontend.GetConfig(0, (uint)size);
        }
        foreach (int candidate in CommonConfigSizes)
        {
            try
            {
                return frontend.GetConfig(0, (uint)candidate);
            }
            catch (ProtocolException e) when (e.Error == ProtocolError.DeviceError)
            {
                // Refused (zero-size reply): the config is smaller; try the next size.
            }
        }
        return [];
    }
}
