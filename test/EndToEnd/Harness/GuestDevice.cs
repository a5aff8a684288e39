// One device on the QEMU command line: either a vhost-user device backed by a daemon of the run
// (a -chardev socket plus a -device naming it) or a device QEMU emulates itself (used by the rig
// self-test, e.g. virtio-rng-pci).
namespace VhostUser.EndToEnd;

/// <summary>A device given to the guest.</summary>
public sealed class GuestDevice
{
    private GuestDevice(VhostUserDeviceType type, string? daemonId, string? properties)
    {
        Type = type;
        DaemonId = daemonId;
        Properties = properties;
    }

    /// <summary>The QEMU device types.</summary>
    public VhostUserDeviceType Type { get; }

    /// <summary>The id of the daemon serving it (a <see cref="DaemonSpec.Id"/>); null for a built-in device.</summary>
    public string? DaemonId { get; }

    /// <summary>Extra <c>-device</c> properties, e.g. <c>num-queues=1</c>.</summary>
    public string? Properties { get; }

    /// <summary>A vhost-user device whose back end is the daemon with id <paramref name="daemonId"/>.</summary>
    public static GuestDevice VhostUser(string daemonId, VhostUserDeviceType type, string? properties = null) =>
        new(type, daemonId, properties);

    /// <summary>A device QEMU emulates itself (no daemon).</summary>
    public static GuestDevice Builtin(string pciType, string mmioType, string? properties = null) =>
        new(new VhostUserDeviceType(pciType, mmioType), null, properties);

    /// <summary>The QEMU arguments for this device.</summary>
    /// <param name="transport">PCI or MMIO.</param>
    /// <param name="index">Position among the run's devices (names the chardev).</param>
    /// <param name="socketPathOf">Maps a daemon id to its listening socket path.</param>
    public IEnumerable<string> QemuArguments(Transport transport, int index, Func<string, string> socketPathOf)
    {
        var device = Type.For(transport);
        if (DaemonId is not null)
        {
            // No reconnect-ms: QEMU 10's vhost-user-base devices (rng, gpio, i2c, snd, …) fail to
            // realize with it (guest-testing.md, "QEMU 10.0 front-end limits").
            var chardev = $"vu{index}";
            yield return "-chardev";
            yield return $"socket,id={chardev},path={socketPathOf(DaemonId)}";
            device += $",chardev={chardev}";
        }

        if (!string.IsNullOrEmpty(Properties))
        {
            device += "," + Properties;
        }

        yield return "-device";
        yield return device;
    }
}
