// RngOptions.cs — the rng daemon's options, validated here so the device can trust them.
// Names and defaults follow rust-vmm's vhost-device-rng.
namespace VhostUser.Devices.Rng;

/// <summary>Validated rng options.</summary>
/// <param name="Source">Entropy source to read (a character device, FIFO or file).</param>
/// <param name="Period">Rate-limit window.</param>
/// <param name="MaxBytes">Most bytes served per window (null: unlimited).</param>
/// <param name="SocketCount">Number of devices (sockets PATH0..PATH(N-1) when above 1).</param>
internal sealed record RngOptions(string Source, TimeSpan Period, long? MaxBytes, int SocketCount)
{
    /// <summary>Longest period accepted, as vhost-device-rng (2^16 ms).</summary>
    public const int MaxPeriodMilliseconds = 1 << 16;

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
        return new RngOptions(source, TimeSpan.FromMilliseconds(periodMs), maxBytes, socketCount);
    }
}
