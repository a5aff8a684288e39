// Program.cs — vhost-user-bench: parse the options, pin to a CPU if asked (or when spawning), then
// run once (against a listening back end or a spawned one) or compare two daemons. Exit codes:
// 0 done, 1 the run failed or the device reported errors, 2 bad command line.
using System.Net.Sockets;
using VhostUser.Bench;
using VhostUser.Memory;
using VhostUser.Protocol;

const string Name = "vhost-user-bench";
try
{
    var options = new BenchCommandLine().Parse(args, out int exitCode);
    if (options is null)
    {
        return exitCode;
    }
    if (CpuPinning.RunPinned(options.BenchCpu, args) is { } pinnedExit)
    {
        return pinnedExit;
    }
    if (options.Daemons.Count == 2)
    {
        return CompareRunner.Run(options, Console.Out);
    }
    Console.WriteLine($"workload: {options.Describe()}");
    var result = BenchRun.Once(options, options.Daemons.Count == 1 ? options.Daemons[0] : null, "daemon");
    Console.WriteLine(result.Format());
    return result.Errors > 0 ? 1 : 0;
}
catch (BenchOptionsException e)
{
    Console.Error.WriteLine($"{Name}: error: {e.Message}");
    return 2;
}
catch (Exception e) when (e is BenchFailedException or ProtocolException or GuestMemoryException or IOException or SocketException or InvalidOperationException)
{
    Console.Error.WriteLine($"{Name}: error: {e.Message}");
    return 1;
}
