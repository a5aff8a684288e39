// Log.cs — the rng device's log messages (source-generated).
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Rng;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "rng source {Path} reached its end; reading it again from the start")]
    public static partial void SourceRewound(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Error, "rng source {Path} failed: {Reason}; requests wait, it is read again every {Seconds} s")]
    public static partial void SourceFailed(ILogger logger, string path, string reason, double seconds);

    [LoggerMessage(3, LogLevel.Information, "rng source {Path} serves again")]
    public static partial void SourceRecovered(ILogger logger, string path);
}
