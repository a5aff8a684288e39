// BenchRun.cs — one complete run: optionally spawn the daemon, connect, start the queues, run the
// request loop, stop the rings, stop the daemon.
namespace VhostUser.Bench;

/// <summary>Runs the workload once.</summary>
internal static class BenchRun
{
    /// <summary>
    /// Runs against <paramref name="daemonCommand"/> started for this run (pinned to
    /// <see cref="BenchOptions.DaemonCpu"/>), or against the back end already listening when null.
    /// </summary>
    public static BenchResult Once(BenchOptions options, string? daemonCommand, string label)
    {
        using var daemon = daemonCommand is null ? null : SpawnedDaemon.Start(daemonCommand, options.SocketPath, options.DaemonCpu, label);
        var format = RequestFormat.Create(options);
        using var session = BenchSession.Open(options, format);
        var result = new BenchLoop(options, format, session.Queues).Run(daemon?.Pid);
        session.Close();
        return result;
    }
}
