// One VHOSTD-RESULT line from the guest.
namespace VhostUser.EndToEnd;

/// <summary>A check the guest reported.</summary>
/// <param name="Stage">Boot stage it ran in (1 unless the run reboots).</param>
/// <param name="Name">Check name.</param>
/// <param name="Passed">PASS or FAIL.</param>
/// <param name="Reason">The FAIL reason.</param>
public sealed record GuestCheck(int Stage, string Name, bool Passed, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() =>
        (Passed ? "PASS " : "FAIL ") + Name + (Stage > 1 ? $" (stage {Stage})" : "") + (Passed ? "" : ": " + Reason);
}
