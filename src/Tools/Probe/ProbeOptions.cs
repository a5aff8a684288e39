using VhostUser.Backend;
using VhostUser.Protocol.Messages;

namespace VhostUser.Tools.Probe;

/// <summary>The probe's validated arguments.</summary>
/// <param name="SocketPath">The back end's socket.</param>
/// <param name="ConfigSize">GET_CONFIG size, or null to search the common sizes.</param>
/// <param name="Timeout">How long to wait for each reply.</param>
/// <param name="Json">Print JSON instead of text.</param>
/// <param name="DeviceType">The device type whose feature-bit names to print (--device), or null.</param>
internal sealed record ProbeOptions(string SocketPath, int? ConfigSize, TimeSpan Timeout, bool Json, string? DeviceType = null)
{
    /// <summary>Checks the arguments; throws <see cref="DaemonOptionsException"/> saying what to fix.</summary>
    public static ProbeOptions Create(string? socketPath, int? configSize, int timeoutMilliseconds, bool json, string? deviceType = null)
    {
        if (deviceType is not null && !DeviceFeatureNames.IsKnown(deviceType))
        {
            throw new DaemonOptionsException($"--device {deviceType} is not one of {string.Join(", ", DeviceFeatureNames.Types)}");
        }
        if (string.IsNullOrEmpty(socketPath))
        {
            throw new DaemonOptionsException("--socket-path PATH is required");
        }
        if (configSize is < 1 or > ConfigSpaceHeader.MaxDataSize)
        {
            throw new DaemonOptionsException($"--config-size {configSize} must be 1..{ConfigSpaceHeader.MaxDataSize} (VHOST_USER_MAX_CONFIG_SIZE)");
        }
        if (timeoutMilliseconds <= 0)
        {
            throw new DaemonOptionsException($"--timeout {timeoutMilliseconds} must be a positive number of milliseconds");
        }
        return new ProbeOptions(socketPath, configSize, TimeSpan.FromMilliseconds(timeoutMilliseconds), json, deviceType);
    }
}
