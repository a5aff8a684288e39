// BuiltDaemon.cs — a built out/vhost-user-NAME run with a command line of the test's choosing, no
// --socket-path added and no readiness wait (unlike DaemonProcess): for the command-line tests of
// each daemon (bad options, socket naming, --help).
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Infrastructure;

internal static class BuiltDaemon
{
    /// <summary>Starts out/vhost-user-<paramref name="name"/> with <paramref name="arguments"/>, output redirected.</summary>
    public static Process Start(string name, string[] arguments)
    {
        Rig.Require(name);
        var start = new ProcessStartInfo(RigPaths.Discover().Daemon(name)) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start)!;
    }

    /// <summary>Runs it to its exit (failing the test after <paramref name="timeout"/>); returns the exit code and stderr + stdout.</summary>
    public static (int ExitCode, string Output) Run(string name, string[] arguments, TimeSpan timeout)
    {
        using var process = Start(name, arguments);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            Assert.Fail($"vhost-user-{name} did not exit within {timeout.TotalSeconds} s");
        }
        return (process.ExitCode, stderr.Result + stdout.Result);
    }
}
