// CreditPolicy.cs — when LinuxGuestSocket reports consumed bytes without being asked.
namespace VhostUser.Devices.Tests.Vsock;

/// <summary>When the guest reports consumed bytes unasked.</summary>
public enum CreditPolicy
{
    /// <summary>Only when the peer's view of the free space is below 64 KiB (Linux before 6.7).</summary>
    Threshold,
    /// <summary>Also whenever a read empties the receive queue (Linux 6.7 and later, e.g. 6.12).</summary>
    ThresholdOrDrained,
}
