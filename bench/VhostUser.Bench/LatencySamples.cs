// LatencySamples.cs — every round-trip time of a run, in Stopwatch ticks, kept exactly (a 5 s run
// at 500k requests/s is 20 MB) so the median and p99 are the true order statistics. The array
// doubles when full: amortized, and sized ahead from the expected rate after the first run.
using System.Diagnostics;

namespace VhostUser.Bench;

/// <summary>Round-trip samples of one run.</summary>
internal sealed class LatencySamples(int initialCapacity = 1 << 16)
{
    private long[] _ticks = new long[initialCapacity];

    /// <summary>Samples recorded.</summary>
    public int Count { get; private set; }

    /// <summary>Records one round trip of <paramref name="ticks"/> Stopwatch ticks.</summary>
    public void Add(long ticks)
    {
        if (Count == _ticks.Length)
        {
            Array.Resize(ref _ticks, _ticks.Length * 2);
        }
        _ticks[Count++] = ticks;
    }

    /// <summary>Forgets every sample (the warm-up's), keeping the storage.</summary>
    public void Clear() => Count = 0;

    /// <summary>The samples sorted, in microseconds.</summary>
    public double[] SortedMicroseconds()
    {
        var span = _ticks.AsSpan(0, Count);
        span.Sort();
        var result = new double[Count];
        double perTick = 1e6 / Stopwatch.Frequency;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = span[i] * perTick;
        }
        return result;
    }
}
