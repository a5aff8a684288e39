// DeviceFeatureNames.cs — names of the device-specific feature bits (0–23 and 50–63) for the
// device types the probe knows, from devices.md and the virtio spec's device chapters (net from
// Linux include/uapi/linux/virtio_net.h). vhost-user does not say which device a back end is, so
// the user names it with --device; without it these bits print as "bit N".
namespace VhostUser.Tools.Probe;

internal static class DeviceFeatureNames
{
    private static readonly Dictionary<string, Dictionary<int, string>> ByType = new(StringComparer.Ordinal)
    {
        ["blk"] = new()
        {
            [0] = "BARRIER", [1] = "SIZE_MAX", [2] = "SEG_MAX", [4] = "GEOMETRY", [5] = "RO", [6] = "BLK_SIZE", [7] = "SCSI",
            [9] = "FLUSH", [10] = "TOPOLOGY", [11] = "CONFIG_WCE", [12] = "MQ", [13] = "DISCARD", [14] = "WRITE_ZEROES",
            [15] = "LIFETIME", [16] = "SECURE_ERASE", [17] = "ZONED",
        },
        ["net"] = new()
        {
            [0] = "CSUM", [1] = "GUEST_CSUM", [2] = "CTRL_GUEST_OFFLOADS", [3] = "MTU", [5] = "MAC", [6] = "GSO",
            [7] = "GUEST_TSO4", [8] = "GUEST_TSO6", [9] = "GUEST_ECN", [10] = "GUEST_UFO", [11] = "HOST_TSO4",
            [12] = "HOST_TSO6", [13] = "HOST_ECN", [14] = "HOST_UFO", [15] = "MRG_RXBUF", [16] = "STATUS",
            [17] = "CTRL_VQ", [18] = "CTRL_RX", [19] = "CTRL_VLAN", [20] = "CTRL_RX_EXTRA", [21] = "GUEST_ANNOUNCE",
            [22] = "MQ", [23] = "CTRL_MAC_ADDR", [50] = "DEVICE_STATS", [51] = "HASH_TUNNEL", [52] = "VQ_NOTF_COAL",
            [53] = "NOTF_COAL", [54] = "GUEST_USO4", [55] = "GUEST_USO6", [56] = "HOST_USO", [57] = "HASH_REPORT",
            [59] = "GUEST_HDRLEN", [60] = "RSS", [61] = "RSC_EXT", [62] = "STANDBY", [63] = "SPEED_DUPLEX",
        },
        ["scsi"] = new() { [0] = "INOUT", [1] = "HOTPLUG", [2] = "CHANGE", [3] = "T10_PI" },
        ["fs"] = new() { [0] = "NOTIFICATION" },
        ["vsock"] = new() { [0] = "STREAM", [1] = "SEQPACKET", [2] = "NO_IMPLIED_STREAM" },
        ["rng"] = new(),
        ["gpio"] = new() { [0] = "IRQ" },
        ["i2c"] = new() { [0] = "ZERO_LENGTH_REQUEST" },
        ["snd"] = new() { [0] = "CTLS" },
        ["input"] = new(),
        ["gpu"] = new() { [0] = "VIRGL", [1] = "EDID", [2] = "RESOURCE_UUID", [3] = "RESOURCE_BLOB", [4] = "CONTEXT_INIT", [5] = "BLOB_ALIGNMENT" },
        ["scmi"] = new() { [0] = "P2A_CHANNELS", [1] = "SHARED_MEMORY" },
    };

    /// <summary>The device types with a table, as --device takes them.</summary>
    public static IReadOnlyList<string> Types { get; } = [.. ByType.Keys];

    /// <summary>True if <paramref name="type"/> is a known device type.</summary>
    public static bool IsKnown(string type) => ByType.ContainsKey(type);

    /// <summary>The name of device bit <paramref name="bit"/> for <paramref name="type"/>, or null.</summary>
    public static string? Name(string? type, int bit) =>
        type is not null && ByType.TryGetValue(type, out var bits) && bits.TryGetValue(bit, out string? name) ? name : null;
}
