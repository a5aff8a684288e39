// GuestLines.cs — serial protocol lines of several guests running at once, so that a test can
// wait until given checks or infos were reported (by name) before pacing the guests on.
namespace VhostUser.EndToEnd.Tests.Vsock;

internal sealed class GuestLines
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<(string[] Names, TaskCompletionSource Done)> _waiters = [];

    /// <summary>OnSerialLine: remembers the name of a VHOSTD-INFO or VHOSTD-RESULT line.</summary>
    public Task Add(string line)
    {
        var words = line[Math.Max(0, line.IndexOf("VHOSTD-", StringComparison.Ordinal))..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? name = words switch
        {
            ["VHOSTD-INFO", var key, ..] => key,
            ["VHOSTD-RESULT", _, var check, ..] => check,
            _ => null,
        };
        if (name is not null)
        {
            lock (_lock)
            {
                _seen.Add(name);
                foreach (var waiter in _waiters.Where(w => w.Names.All(_seen.Contains)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult();
                }
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Waits until every name was reported, or <paramref name="timeout"/> passed (the runs then report what went wrong).</summary>
    public async Task WaitAsync(TimeSpan timeout, params string[] names)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (names.All(_seen.Contains))
            {
                return;
            }
            _waiters.Add((names, done));
        }
        await Task.WhenAny(done.Task, Task.Delay(timeout));
    }
}
