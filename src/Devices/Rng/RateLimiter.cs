// RateLimiter.cs — at most MaxBytes per Period (vhost-device-rng's --period/--max-bytes). The
// window opens at the first byte served after the previous window ended.
using System.Diagnostics;

namespace VhostUser.Devices.Rng;

/// <summary>A fixed-window byte budget.</summary>
internal sealed class RateLimiter(TimeSpan period, long? maxBytes, Func<long> clock)
{
    private long _windowStart = long.MinValue;
    private long _used;

    /// <summary>A limiter on the system's monotonic clock.</summary>
    public RateLimiter(TimeSpan period, long? maxBytes)
        : this(period, maxBytes, Stopwatch.GetTimestamp)
    {
    }

    /// <summary>Bytes that may be served now (long.MaxValue without a limit).</summary>
    public long Available()
    {
        if (maxBytes is not { } max)
        {
            return long.MaxValue;
        }
        long now = clock();
        if (_windowStart == long.MinValue || Stopwatch.GetElapsedTime(_windowStart, now) >= period)
        {
            _windowStart = now;
            _used = 0;
        }
        return max - _used;
    }

    /// <summary>Records <paramref name="bytes"/> served.</summary>
    public void Consume(long bytes) => _used += bytes;

    /// <summary>Time until the current window ends.</summary>
    public TimeSpan UntilNextWindow()
    {
        var left = period - Stopwatch.GetElapsedTime(_windowStart, clock());
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }
}
