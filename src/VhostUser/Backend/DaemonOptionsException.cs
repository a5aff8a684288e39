namespace VhostUser.Backend;

/// <summary>A device option is invalid; the message says what to fix. The daemon exits with 2.</summary>
public sealed class DaemonOptionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DaemonOptionsException(string message)
        : base(message)
    {
    }
}
