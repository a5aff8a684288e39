// RngOptions.cs — the rng daemon's options, validated here so the device can trust them.
// Names, short forms and defaults follow rust-vmm's vhost-device-rng (src/main.rs): period
// 65536 ms, no byte limit, one socket, /dev/urandom. Like it, a --max-bytes budget is divided
// among the sockets (each guest gets max-bytes / socket-count per period, so one busy guest
// cannot starve the others). The difference: without --socket-count the one socket is PATH
// itself; vhost-device-rng always appends the number (PATH0).
namespace VhostUser.Devices.Rng;

/// <summary>Validated rng options.</summary>
/// <param name="Source">Entropy source to read (a character device, FIFO or file).</param>
/// <param name="Period">Rate-limit window.</param>
/// <param name="MaxBytes">Most bytes served per window by the whole daemon (null: unlimited).</param>
/// <param name="SocketCount">Number of devices, one per socket.</param>
internal sealed record RngOptions(string Source, TimeSpan Period, long? MaxBytes, int SocketCount)
{
    /// <summary>Longest period accepted, as vhost-device-rng (2^16 ms, QEMU's virtio-rng maximum).</summary>
    public const int MaxPeriodMilliseconds = 1 << 16;

    /// <summary>vhost-device-rng's default period: the longest one.</summary>
    public const int DefaultPeriodMilliseconds = MaxPeriodMilliseconds;

    /// <summary>Each device's share of <see cref="MaxBytes"/> (vhost-device-rng divides, rounding down).</summary>
    public long? MaxBytesPerSocket => MaxBytes / SocketCount;

    /// <summary>Checks the raw option values; throws with a message that says what to fix.</summary>
    public static RngOptions Create(string source, int periodMs, long? maxBytes, int socketCount)
    {
        if (string.IsNullOrEmpty(source))
        {
            throw new VhostUser.Backend.DaemonOptionsException("--rng-source must name a file");
        }
        if (periodMs is < 1 or > MaxPeriodMilliseconds)
        {
            throw new VhostUser.Backend.DaemonOptionsException($"--period must be 1 to {MaxPeriodMilliseconds} ms, not {periodMs}");
        }
        if (maxBytes is < 1)
        {
            throw new VhostUser.Backend.DaemonOptionsException($"--max-bytes must be at least 1, not {maxBytes}");
        }
        if (socketCount is < 1 or > 64)
        {
            throw new VhostUser.Backend.DaemonOptionsException($"--socket-count must be 1 to 64, not {socketCount}");
        }
        if (maxBytes < socketCount)
        {
            throw new VhostUser.Backend.DaemonOptionsException(
                $"--max-bytes {maxBytes} is shared by {socketCount} sockets: less than one byte each per period");
        }
        return new RngOptions(source, TimeSpan.FromMilliseconds(periodMs), maxBytes, socketCount);
    }
}
