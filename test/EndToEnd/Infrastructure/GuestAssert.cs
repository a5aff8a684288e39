// Assertions over a guest run; the failure message carries the whole report (serial console,
// QEMU stderr, daemon output) so a CI log alone explains the failure.
namespace VhostUser.EndToEnd.Tests.Infrastructure;

internal static class GuestAssert
{
    /// <summary>The run finished, every check passed and each expected check was reported.</summary>
    public static void Passed(GuestResult result, params string[] expectedChecks)
    {
        var problems = result.Verify(expectedChecks);
        Assert.True(problems.Count == 0, result.Report(problems));
    }
}
