// Only one TCG guest runs at a time on these 2-core machines, across processes too: a guest run
// holds an exclusive flock on /tmp/vhostd-guest.lock (the same lock `flock(1)` takes, so shell
// scripts can join in). .NET takes flock(LOCK_EX|LOCK_NB) for FileShare.None, so waiting is a
// polling loop. Within a process the lock is re-entrant (a re-listen test holds it across two
// runs); the EndToEnd tests run one at a time, so in-process sharing never lets two guests overlap.
//
// While holding the lock the rig records the process groups it started in /tmp/vhostd-guest.pids;
// the next holder kills any group still alive from a holder that died without cleaning up (a test
// host killed by a CI timeout would otherwise leave QEMU spinning).
namespace VhostUser.EndToEnd;

/// <summary>The machine-wide guest lock.</summary>
public static class GuestLock
{
    /// <summary>The lock file.</summary>
    public const string LockPath = "/tmp/vhostd-guest.lock";

    private const string PidsPath = "/tmp/vhostd-guest.pids";
    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private static readonly Lock StateLock = new();
    private static FileStream? _held;
    private static int _depth;

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>, default 30 minutes) for the lock; tells
    /// <paramref name="onWaiting"/> once when another holder makes it wait.
    /// </summary>
    public static async Task<IAsyncDisposable> AcquireAsync(TimeSpan? timeout = null,
        Action<string>? onWaiting = null, CancellationToken cancellationToken = default)
    {
        lock (StateLock)
        {
            if (_depth > 0)
            {
                _depth++;
                return new Releaser();
            }
        }

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(30));
        await InProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                try
                {
                    var stream = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    lock (StateLock)
                    {
                        _held = stream;
                        _depth = 1;
                    }

                    KillStaleGroups();
                    return new Releaser();
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    onWaiting?.Invoke($"waiting for {LockPath}: another guest is running");
                    onWaiting = null;
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            InProcess.Release();
            throw;
        }
    }

    /// <summary>Records a started process group so that a later holder can clean it up.</summary>
    internal static void Track(int pid)
    {
        lock (StateLock)
        {
            var start = StartTime(pid);
            if (start is not null)
            {
                File.AppendAllText(PidsPath, $"{pid} {start}\n");
            }
        }
    }

    /// <summary>Forgets a process group that was cleaned up.</summary>
    internal static void Untrack(int pid)
    {
        lock (StateLock)
        {
            if (File.Exists(PidsPath))
            {
                var keep = File.ReadAllLines(PidsPath).Where(l => !l.StartsWith($"{pid} ", StringComparison.Ordinal));
                File.WriteAllLines(PidsPath, keep);
            }
        }
    }

    private static void KillStaleGroups()
    {
        if (!File.Exists(PidsPath))
        {
            return;
        }

        foreach (var line in File.ReadAllLines(PidsPath))
        {
            var parts = line.Split(' ');
            // Only a process with the recorded start time is ours: pids are reused.
            if (parts.Length == 2 && int.TryParse(parts[0], out var pid) && StartTime(pid) == parts[1])
            {
                _ = NativeMethods.kill(-pid, NativeMethods.SIGKILL);
            }
        }

        File.WriteAllText(PidsPath, "");
    }

    private static string? StartTime(int pid)
    {
        try
        {
            // /proc/PID/stat: field 22 is the start time; the name (field 2) may hold spaces.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private sealed class Releaser : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return ValueTask.CompletedTask;
            }

            lock (StateLock)
            {
                if (--_depth > 0)
                {
                    return ValueTask.CompletedTask;
                }

                _held?.Dispose();
                _held = null;
            }

            InProcess.Release();
            return ValueTask.CompletedTask;
        }
    }
}
