// The devices the demo knows. To add a device: one DemoEntry with its daemon, its QEMU device,
// a guest snippet that reports "<name>.*" checks and infos, and a one-line summary.
using System.Globalization;

namespace VhostUser.EndToEnd.Demo;

internal static class DemoEntries
{
    public static IReadOnlyList<DemoEntry> All { get; } =
    [
        new DemoEntry(
            "rng",
            new DaemonSpec("rng"),
            GuestDevice.VhostUser("rng", VhostUserDeviceType.Rng),
            Modules: ["virtio_rng"],
            Tools: [],
            GuestSnippet: """
                check_contains rng.current /sys/class/misc/hw_random/rng_current virtio_rng
                info rng.driver "$(cat /sys/class/misc/hw_random/rng_current)"
                timed rng.read sh -c 'head -c 1048576 /dev/hwrng | wc -c > /tmp/rng.bytes'
                info rng.bytes "$(cat /tmp/rng.bytes)"
                check rng.read_1MiB test "$(cat /tmp/rng.bytes)" = 1048576
                """,
            Summarize: r => string.Create(CultureInfo.InvariantCulture,
                $"read {Size(r.InfoNumber("rng.bytes"))} from /dev/hwrng ({r.InfoValue("rng.driver")}) in {r.InfoNumber("rng.read-cs") / 100:0.0} s")),
    ];

    /// <summary>QEMU's own virtio-rng in place of the rng daemon (--builtin: try the demo without daemons).</summary>
    public static DemoEntry BuiltinRng { get; } = All[0] with
    {
        Name = "rng (QEMU built-in)",
        Daemon = null,
        Device = GuestDevice.Builtin("virtio-rng-pci", "virtio-rng-device"),
    };

    private static string Size(double? bytes) => bytes switch
    {
        null => "nothing",
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):0.#} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 10):0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
