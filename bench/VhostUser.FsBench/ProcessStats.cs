// ProcessStats.cs — what the scheduler says about a process tree, summed over every thread of the
// process and the processes below it (virtiofsd's sandbox forks a child that does the work):
//   CpuNs        time on a CPU (/proc/PID/task/TID/schedstat field 1, nanoseconds)
//   WaitNs       time runnable but waiting for a CPU (field 2): other load on the pinned CPU
//   Sleeps       voluntary context switches (/proc/PID/task/TID/status): how often a thread ran
//                out of work and slept, i.e. how often the daemon waited for the driver
// Differences of two snapshots (Since) taken around a run give per-operation costs that do not depend on
// how busy the shared machine was (CPU) and show how much it was (wait). The driver's threads
// measure themselves (OfThisThread), since they end with the run.
using System.Globalization;

namespace VhostUser.FsBench;

internal readonly record struct ProcessStats(long CpuNs, long WaitNs, long Sleeps)
{
    /// <summary>What happened since <paramref name="earlier"/>.</summary>
    public ProcessStats Since(ProcessStats earlier) => new(CpuNs - earlier.CpuNs, WaitNs - earlier.WaitNs, Sleeps - earlier.Sleeps);

    /// <summary>The sum over <paramref name="pid"/>, its threads, and every process below it.</summary>
    public static ProcessStats OfTree(int pid)
    {
        var total = default(ProcessStats);
        foreach (int id in TreeOf(pid))
        {
            total = total.Plus(OfProcess(id));
        }
        return total;
    }

    /// <summary>The calling thread's own numbers (/proc/thread-self).</summary>
    public static ProcessStats OfThisThread() => OfTask("/proc/thread-self");

    private ProcessStats Plus(ProcessStats other) => new(CpuNs + other.CpuNs, WaitNs + other.WaitNs, Sleeps + other.Sleeps);

    private static ProcessStats OfProcess(int pid)
    {
        var total = default(ProcessStats);
        string tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks))
        {
            return total;
        }
        foreach (string task in Directory.EnumerateDirectories(tasks))
        {
            total = total.Plus(OfTask(task));
        }
        return total;
    }

    private static ProcessStats OfTask(string task)
    {
        try
        {
            var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
            long sleeps = File.ReadLines(Path.Combine(task, "status"))
                .Where(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(':')[1].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault();
            return new ProcessStats(long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture), sleeps);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return default; // the thread exited meanwhile
        }
    }

    private static List<int> TreeOf(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int id))
            {
                try
                {
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    parents[id] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }
        }
        bool Below(int id)
        {
            for (int depth = 0; depth < 16 && id > 1; depth++)
            {
                if (id == root)
                {
                    return true;
                }
                id = parents.GetValueOrDefault(id);
            }
            return false;
        }
        return parents.Keys.Where(Below).ToList();
    }
}
