// FeatureNames.cs — names for the bits a back end offers: the device-independent virtio bits
// (virtqueues.md §1, virtio spec "Reserved Feature Bits") plus the vhost bits sharing the word
// (vhost-user-protocol.md §7), the device-specific bits of the device type given with --device
// (DeviceFeatureNames), and the protocol feature bits 0–23 (vhost-user-protocol.md §6). Bits
// without a name print as "bit N".
namespace VhostUser.Tools.Probe;

internal static class FeatureNames
{
    private static readonly Dictionary<int, string> CommonBits = new()
    {
        [24] = "NOTIFY_ON_EMPTY",
        [26] = "LOG_ALL",
        [27] = "ANY_LAYOUT",
        [28] = "INDIRECT_DESC",
        [29] = "EVENT_IDX",
        [30] = "PROTOCOL_FEATURES",
        [32] = "VERSION_1",
        [33] = "ACCESS_PLATFORM",
        [34] = "RING_PACKED",
        [35] = "IN_ORDER",
        [36] = "ORDER_PLATFORM",
        [37] = "SR_IOV",
        [38] = "NOTIFICATION_DATA",
        [39] = "NOTIF_CONFIG_DATA",
        [40] = "RING_RESET",
        [41] = "ADMIN_VQ",
        [43] = "SUSPEND",
    };

    private static readonly string[] ProtocolBits =
    [
        "MQ", "LOG_SHMFD", "RARP", "REPLY_ACK", "NET_MTU", "BACKEND_REQ", "CROSS_ENDIAN", "CRYPTO_SESSION",
        "PAGEFAULT", "CONFIG", "BACKEND_SEND_FD", "HOST_NOTIFIER", "INFLIGHT_SHMFD", "RESET_DEVICE",
        "INBAND_NOTIFICATIONS", "CONFIGURE_MEM_SLOTS", "STATUS", "XEN_MMAP", "SHARED_OBJECT", "DEVICE_STATE",
        "GET_VRING_BASE_INFLIGHT", "GPA_ADDRESSES", "SHMEM", "GET_VRING_BASE_SKIP_DRAIN",
    ];

    /// <summary>
    /// Names of the set bits of a GET_FEATURES word, lowest bit first; device-specific bits by
    /// the names of <paramref name="deviceType"/> (blk, net, …) when given.
    /// </summary>
    public static IReadOnlyList<string> Virtio(ulong features, string? deviceType = null) =>
        Names(features, bit => CommonBits.TryGetValue(bit, out string? name) ? name : DeviceFeatureNames.Name(deviceType, bit));

    /// <summary>Names of the set bits of a GET_PROTOCOL_FEATURES word, lowest bit first.</summary>
    public static IReadOnlyList<string> Protocol(ulong features) =>
        Names(features, bit => bit < ProtocolBits.Length ? ProtocolBits[bit] : null);

    private static List<string> Names(ulong bits, Func<int, string?> name)
    {
        var names = new List<string>();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((bits & (1UL << bit)) != 0)
            {
                names.Add(name(bit) ?? $"bit {bit}");
            }
        }
        return names;
    }
}
