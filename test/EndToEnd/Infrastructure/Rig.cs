// The tests' side of the rig: runs a guest and turns "the rig cannot run here" into the project's
// rule — a visible skip (saying what to run) outside CI, a failure in CI (CI=true).
namespace VhostUser.EndToEnd.Tests.Infrastructure;

internal static class Rig
{
    /// <summary>Runs the guest, writes its summary to the test output and returns the result.</summary>
    public static async Task<GuestResult> RunAsync(GuestRun run, ITestOutputHelper output)
    {
        GuestResult result;
        run.Progress ??= output.WriteLine;
        try
        {
            result = await run.RunAsync();
        }
        catch (RigUnavailableException e)
        {
            Unavailable(e.Message);
            throw;
        }

        output.WriteLine(result.Summary);
        if (result.LogFile is not null)
        {
            output.WriteLine("log: " + result.LogFile);
        }

        return result;
    }

    /// <summary>Skips (or fails in CI) unless the assets and the named daemons are present.</summary>
    public static void Require(params string[] daemons)
    {
        var paths = RigPaths.Discover();
        if ((paths.MissingAssets() ?? paths.MissingDaemons(daemons)) is { } missing)
        {
            Unavailable(missing);
        }
    }

    /// <summary>Starts a daemon for a test that keeps it across several runs.</summary>
    public static async Task<DaemonProcess> StartDaemonAsync(DaemonSpec spec)
    {
        Require(spec.Name);
        return await DaemonProcess.StartAsync(spec);
    }

    /// <summary>Builds a guest helper (<see cref="GuestTool.Build"/>); a skip outside CI, a failure in CI, if it cannot be built.</summary>
    public static string BuildTool(string name, string source, bool isStatic)
    {
        try
        {
            return GuestTool.Build(name, source, isStatic);
        }
        catch (RigUnavailableException e)
        {
            Unavailable(e.Message);
            throw;
        }
    }

    private static void Unavailable(string message)
    {
        if (HostInfo.IsCI)
        {
            Assert.Fail(message + " (CI=true: a guest test that cannot run fails)");
        }

        Skip.If(true, message);
    }
}
