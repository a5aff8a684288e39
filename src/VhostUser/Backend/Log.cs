// Log.cs — every log message of the core, source-generated (design README 1.8; the Tmds.Ssh shape).
using Microsoft.Extensions.Logging;
using VhostUser.Protocol;

namespace VhostUser.Backend;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "listening on {Path}")]
    public static partial void Listening(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Information, "front end connected")]
    public static partial void Connected(ILogger logger);

    [LoggerMessage(3, LogLevel.Information, "front end disconnected; device reset, waiting for the next connection")]
    public static partial void Disconnected(ILogger logger);

    [LoggerMessage(4, LogLevel.Debug, "request {Request} flags {Flags:x} size {Size} fds {FdCount}")]
    public static partial void RequestReceived(ILogger logger, FrontendRequest request, uint flags, uint size, int fdCount);

    [LoggerMessage(5, LogLevel.Warning, "request {Request} refused: {Reason}")]
    public static partial void RequestRefused(ILogger logger, FrontendRequest request, string reason);

    [LoggerMessage(6, LogLevel.Error, "closing the connection: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string reason);

    [LoggerMessage(7, LogLevel.Error, "queue {Queue} is broken ({Error}): {Reason}")]
    public static partial void QueueBroken(ILogger logger, int queue, string error, string reason);

    [LoggerMessage(8, LogLevel.Debug, "queue {Queue} started: size {Size}, {Layout} ring, base {Base:x}")]
    public static partial void QueueStarted(ILogger logger, int queue, int size, string layout, uint @base);

    [LoggerMessage(9, LogLevel.Debug, "queue {Queue} stopped at base {Base:x}")]
    public static partial void QueueStopped(ILogger logger, int queue, uint @base);

    [LoggerMessage(10, LogLevel.Warning, "queue {Queue}: {Count} chains still in flight after {Seconds} s; stopping anyway")]
    public static partial void DrainTimeout(ILogger logger, int queue, int count, double seconds);

    [LoggerMessage(11, LogLevel.Information, "memory table: {Count} regions, {Megabytes} MiB")]
    public static partial void MemoryTable(ILogger logger, int count, ulong megabytes);

    [LoggerMessage(12, LogLevel.Debug, "features acked {Features:x}")]
    public static partial void FeaturesAcked(ILogger logger, ulong features);

    [LoggerMessage(13, LogLevel.Debug, "protocol features acked {Features:x}")]
    public static partial void ProtocolFeaturesAcked(ILogger logger, ulong features);

    [LoggerMessage(14, LogLevel.Critical, "worker {Worker} failed")]
    public static partial void WorkerFailed(ILogger logger, int worker, Exception exception);

    [LoggerMessage(15, LogLevel.Error, "guest fault outside queue processing on worker {Worker}: {Reason}")]
    public static partial void GuestFaultInCallback(ILogger logger, int worker, string reason);

    [LoggerMessage(16, LogLevel.Warning, "queue {Queue}: {Count} chains in flight could not be given back to the driver")]
    public static partial void RewindFailed(ILogger logger, int queue, int count);

    [LoggerMessage(17, LogLevel.Information, "shutting down")]
    public static partial void ShuttingDown(ILogger logger);

    [LoggerMessage(18, LogLevel.Warning, "back-end channel message {Request} failed: {Reason}")]
    public static partial void BackendChannelFailed(ILogger logger, BackendRequest request, string reason);

    [LoggerMessage(19, LogLevel.Debug, "device status {Status:x}")]
    public static partial void Status(ILogger logger, byte status);

    [LoggerMessage(20, LogLevel.Information, "device reset ({Reason})")]
    public static partial void DeviceReset(ILogger logger, string reason);

    [LoggerMessage(21, LogLevel.Information, "inflight area created: {Queues} queues of {Size} entries, {Bytes} bytes")]
    public static partial void InflightAreaCreated(ILogger logger, int queues, int size, long bytes);

    [LoggerMessage(22, LogLevel.Debug, "inflight area set: {Queues} queues of {Size} entries, {Bytes} bytes")]
    public static partial void InflightAreaSet(ILogger logger, int queues, int size, ulong bytes);

    [LoggerMessage(23, LogLevel.Information, "queue {Queue}: inflight area {Recovery}, {Count} chains to resubmit")]
    public static partial void InflightRecovered(ILogger logger, int queue, string recovery, int count);

    [LoggerMessage(24, LogLevel.Information, "queue {Queue}: connection lost with {Count} chains in flight; the inflight area keeps them for the next connection")]
    public static partial void InflightAbandoned(ILogger logger, int queue, int count);

    [LoggerMessage(25, LogLevel.Warning, "queue {Queue}: the ring has {Size} entries, the inflight area room for {Entries}; the ring runs without inflight tracking")]
    public static partial void InflightAreaTooSmall(ILogger logger, int queue, int size, int entries);

    [LoggerMessage(26, LogLevel.Information, "inflight area: restored {Bytes} byte(s) of device state saved by an earlier back end")]
    public static partial void CrashSafeStateRestored(ILogger logger, int bytes);

    [LoggerMessage(27, LogLevel.Error, "queue {Queue}: writing to the {Which} fd failed ({Reason}): the front end sent no eventfd; {Consequence}")]
    public static partial void NotifierFailed(ILogger logger, int queue, string which, string reason, string consequence);

    [LoggerMessage(28, LogLevel.Warning, "queue {Queue}: chain {Id} was completed after its ring stopped; dropped (the ring that runs now never had it)")]
    public static partial void StaleCompletion(ILogger logger, int queue, ushort id);

    [LoggerMessage(29, LogLevel.Information, "serving the connected socket fd {Fd}; exiting when the front end closes it")]
    public static partial void ServingConnectedFd(ILogger logger, int fd);
}
