// The built vhost-user-rng's command line (no guest): socket names and defaults as in rust-vmm's
// vhost-device-rng (--socket-count N always means PATH0..PATH(N-1); without it the socket is
// PATH), and every mistake one line saying what to fix with exit status 2.
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Rng;

public sealed class RngCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rng-cli-").FullName;

    private string SocketPath => Path.Combine(_directory, "rng.sock");

    [SkippableTheory]
    [InlineData(null, new[] { "" })]
    [InlineData("1", new[] { "0" })]
    [InlineData("3", new[] { "0", "1", "2" })]
    public async Task Daemon_SocketCount_ListensOnTheNumberedSockets(string? count, string[] suffixes)
    {
        string[] arguments = count is null ? ["--socket-path", SocketPath] : ["--socket-path", SocketPath, "--socket-count", count];
        using var daemon = Start(arguments);
        string[] sockets = [.. suffixes.Select(s => SocketPath + s)];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!sockets.All(DaemonProcess.IsListening) && DateTime.UtcNow < deadline && !daemon.HasExited)
        {
            await Task.Delay(50);
        }
        Assert.All(sockets, s => Assert.True(DaemonProcess.IsListening(s), $"{s} is not listening"));
        Assert.Equal(sockets.Length, Directory.GetFiles(_directory).Length); // and nothing else (no plain PATH with a count)
        daemon.Kill();
    }

    [SkippableFact]
    public void Help_ShowsVhostDeviceRngDefaults()
    {
        var (exitCode, output) = Run(["--help"]);

        Assert.Equal(0, exitCode);
        Assert.Matches(@"--period\s+<MS>.*\[default: 65536\]", output);
        Assert.Contains("-c, --socket-count", output, StringComparison.Ordinal);
        Assert.Matches(@"--log-level\s+<LEVEL>.*\[default: info\]", output); // the word the option takes, not "Information"
        Assert.DoesNotContain("Information", output, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("--max-bytes 1 --socket-count 2", "--max-bytes 1 is shared by 2 sockets")]
    [InlineData("--period 65537", "--period must be 1 to 65536 ms")]
    [InlineData("--log-level loud", "--log-level must be trace, debug, info, warn, error or off, not 'loud'")]
    [InlineData("--rng-source /etc", "--rng-source /etc is a directory")]
    [InlineData("--fd 77", "--fd 77: not an open socket")]
    public void Daemon_BadOption_ExitTwoWithOneLine(string options, string expected)
    {
        string[] arguments = options.StartsWith("--fd", StringComparison.Ordinal) ? options.Split(' ') : ["--socket-path", SocketPath, .. options.Split(' ')];
        var (exitCode, output) = Run(arguments);

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Process Start(string[] arguments) => BuiltDaemon.Start("rng", arguments);

    private static (int ExitCode, string Output) Run(string[] arguments) => BuiltDaemon.Run("rng", arguments, TimeSpan.FromSeconds(10));
}
