// ProcessCpuClock.cs — CPU time (user + system, all threads) of a process from /proc/PID/stat,
// fields 14 and 15 in clock ticks. USER_HZ is 100 on every Linux the project targets (x86-64,
// arm64), so a tick is 10 ms: over a 5 s run that is fine enough for a per-request figure.
using System.Globalization;

namespace VhostUser.Bench;

/// <summary>Reads a process's CPU time.</summary>
internal static class ProcessCpuClock
{
    private const double TicksPerSecond = 100;

    /// <summary>CPU time used so far by <paramref name="pid"/>, or null if it cannot be read.</summary>
    public static TimeSpan? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces: count from its end.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
        if (fields.Length < 13
            || !long.TryParse(fields[11], CultureInfo.InvariantCulture, out long user)
            || !long.TryParse(fields[12], CultureInfo.InvariantCulture, out long system))
        {
            return null;
        }
        return TimeSpan.FromSeconds((user + system) / TicksPerSecond);
    }
}
