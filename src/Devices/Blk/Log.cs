// Log.cs — the blk device's log messages (source-generated).
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Blk;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "serving {Path}: {Bytes} bytes, {Mode}, {Queues} queues of up to {QueueSize} on {Workers} workers, {Engine} engine, serial {Serial}")]
    public static partial void Serving(ILogger logger, string path, long bytes, string mode, int queues, int queueSize, int workers, string engine, string serial);

    [LoggerMessage(2, LogLevel.Warning, "queue {Queue}: request {Id} has no writable status byte; returned with nothing written")]
    public static partial void MalformedRequest(ILogger logger, int queue, ushort id);

    [LoggerMessage(3, LogLevel.Warning, "queue {Queue}: {Operation} at {Offset} (+{Length}) failed: result {Result}")]
    public static partial void IoFailed(ILogger logger, int queue, BlkOperation operation, long offset, long length, long result);

    [LoggerMessage(4, LogLevel.Information, "capacity {OldBytes} -> {NewBytes} bytes; config change sent to the front end: {Sent}")]
    public static partial void Resized(ILogger logger, long oldBytes, long newBytes, bool sent);

    [LoggerMessage(5, LogLevel.Information, "cache mode set by the driver: {Mode}")]
    public static partial void CacheMode(ILogger logger, string mode);

    [LoggerMessage(6, LogLevel.Information, "queue {Queue}: {Requests} requests served since the last reset")]
    public static partial void QueueServed(ILogger logger, int queue, long requests);

    [LoggerMessage(7, LogLevel.Warning, "resize: cannot read the size of {Path}: {Reason}")]
    public static partial void ResizeFailed(ILogger logger, string path, string reason);

    [LoggerMessage(8, LogLevel.Information, "cache mode restored from the inflight area (chosen by the driver before this daemon started): {Mode}")]
    public static partial void CacheModeRestored(ILogger logger, string mode);

    [LoggerMessage(9, LogLevel.Information, "capacity {Bytes} bytes announced to a front end that may not know it (config change sent)")]
    public static partial void CapacityAnnounced(ILogger logger, long bytes);
}
