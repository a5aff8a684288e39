namespace VhostUser.Virtio;

/// <summary>A virtqueue violation; the queue that raised it is marked broken.</summary>
public sealed class VirtqueueException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VirtqueueException(VirtqueueError error, string message)
        : base(message) => Error = error;

    /// <summary>The error code tests and policies switch on.</summary>
    public VirtqueueError Error { get; }
}
