// Log.cs — the fs device's log messages (source-generated).
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Fs;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "sharing {SharedDir} with {Queues} request queue(s), cache {Cache}, sandbox {Sandbox}, inode file handles {Handles}, thread pool {Pool}")]
    public static partial void Serving(ILogger logger, string sharedDir, int queues, CachePolicy cache, SandboxMode sandbox, FileHandleMode handles, int pool);

    [LoggerMessage(2, LogLevel.Debug, "queue {Queue} served {Count} request(s)")]
    public static partial void QueueServed(ILogger logger, int queue, long count);

    [LoggerMessage(3, LogLevel.Information, "session ended: {Queues}")]
    public static partial void SessionEnded(ILogger logger, string queues);

    [LoggerMessage(4, LogLevel.Warning, "raising RLIMIT_NOFILE failed (errno {Errno}); big trees may run out of fds (use --inode-file-handles)")]
    public static partial void FileLimitNotRaised(ILogger logger, int errno);

    [LoggerMessage(5, LogLevel.Information, "sandbox: capabilities 0x{Capabilities:x} (bounding set empty), no_new_privs, seccomp denies {Denied} system calls (--seccomp {Seccomp})")]
    public static partial void SandboxEntered(ILogger logger, ulong capabilities, int denied, SeccompAction seccomp);
}
