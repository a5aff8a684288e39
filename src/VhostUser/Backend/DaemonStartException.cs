namespace VhostUser.Backend;

/// <summary>
/// The device cannot start for a reason other than its options (a sandbox step the kernel
/// refused, say); the message says what failed. The daemon exits with 1.
/// </summary>
public sealed class DaemonStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DaemonStartException(string message)
        : base(message)
    {
    }
}
