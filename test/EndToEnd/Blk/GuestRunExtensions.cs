// GuestRunExtensions.cs — small conveniences for building guest runs in the blk tests.
namespace VhostUser.EndToEnd.Tests.Blk;

/// <summary>Adds QEMU arguments to a run built with an object initializer.</summary>
internal static class GuestRunExtensions
{
    public static GuestRun WithArguments(this GuestRun run, IEnumerable<string> arguments)
    {
        foreach (string argument in arguments)
        {
            run.ExtraQemuArguments.Add(argument);
        }
        return run;
    }
}
