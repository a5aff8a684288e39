// Log.cs — the rng device's log messages (source-generated).
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Rng;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "rng source {Path} reached its end; reading it again from the start")]
    public static partial void SourceRewound(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Error, "rng source {Path} reached end of file; no more entropy can be served")]
    public static partial void SourceEnded(ILogger logger, string path);
}
