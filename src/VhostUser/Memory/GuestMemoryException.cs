namespace VhostUser.Memory;

/// <summary>A guest-memory access or memory-table change failed; <see cref="Error"/> says why.</summary>
public sealed class GuestMemoryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GuestMemoryException(GuestMemoryError error, string message)
        : base(message) => Error = error;

    /// <summary>The error code tests and policies switch on.</summary>
    public GuestMemoryError Error { get; }
}
