// Thrown when a guest run cannot start because the rig's assets or a daemon binary are missing;
// the message says what to run. Tests turn it into a skip outside CI and a failure in CI.
namespace VhostUser.EndToEnd;

/// <summary>The rig cannot run a guest here: assets or daemons are missing.</summary>
public sealed class RigUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RigUnavailableException()
    {
    }

    /// <summary>Creates the exception with what is missing and how to get it.</summary>
    public RigUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RigUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
