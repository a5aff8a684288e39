// Log.cs — the vsock device's log messages (source-generated). Per-packet trouble caused by the
// guest is Debug (a hostile guest must not flood the log); what an operator should see is Warning.
using Microsoft.Extensions.Logging;

namespace VhostUser.Devices.Vsock;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "dropped a tx packet: {Reason} (chain of {Length} bytes)")]
    public static partial void MalformedPacket(ILogger logger, string reason, uint length);

    [LoggerMessage(2, LogLevel.Debug, "dropped a tx packet from CID {Source}: this guest is CID {Guest}")]
    public static partial void SpoofedSource(ILogger logger, ulong source, ulong guest);

    [LoggerMessage(3, LogLevel.Warning, "{Connection}: the guest sent more than its credit ({Detail}); connection reset")]
    public static partial void CreditViolation(ILogger logger, string connection, string detail);

    [LoggerMessage(4, LogLevel.Debug, "{Connection}: host socket error {Error}; connection reset")]
    public static partial void HostSocketError(ILogger logger, string connection, string error);

    [LoggerMessage(5, LogLevel.Debug, "guest connection to {Path} refused: {Error}")]
    public static partial void GuestConnectRefused(ILogger logger, string path, string error);

    [LoggerMessage(6, LogLevel.Debug, "host connection to guest port {Port} refused: {Reason}")]
    public static partial void HostConnectRefused(ILogger logger, uint port, string reason);

    [LoggerMessage(7, LogLevel.Debug, "host connection sent a bad CONNECT line '{Line}'")]
    public static partial void BadConnectLine(ILogger logger, string line);

    [LoggerMessage(8, LogLevel.Warning, "accepting a host connection failed: {Message}")]
    public static partial void AcceptFailed(ILogger logger, string message);

    [LoggerMessage(9, LogLevel.Warning, "{Packet}: more than 16384 replies to unknown connections wait for rx buffers; dropped (and any more until the guest takes some)")]
    public static partial void ControlQueueFull(ILogger logger, string packet);

    [LoggerMessage(10, LogLevel.Debug, "sibling CID {Cid} is not running or its queue is full; connection refused")]
    public static partial void SiblingUnavailable(ILogger logger, ulong cid);

    [LoggerMessage(20, LogLevel.Warning, "{Packet}: sibling CID {Cid} cannot queue it (credit exceeded or too many packets); connection reset at both ends")]
    public static partial void SiblingConnectionReset(ILogger logger, string packet, ulong cid);

    [LoggerMessage(11, LogLevel.Warning, "{Connection}: host message of {Length} bytes exceeds what the guest can take ({Limit}); connection reset")]
    public static partial void MessageTooLarge(ILogger logger, string connection, string length, uint limit);

    [LoggerMessage(12, LogLevel.Information, "the guest driver restarted; closing {Count} host connections")]
    public static partial void DriverRestarted(ILogger logger, int count);

    [LoggerMessage(14, LogLevel.Debug, "{Connection}: closed ({Reason})")]
    public static partial void ConnectionClosed(ILogger logger, string connection, string reason);

    [LoggerMessage(15, LogLevel.Debug, "{Connection}: opened ({How})")]
    public static partial void ConnectionOpened(ILogger logger, string connection, string how);

    [LoggerMessage(13, LogLevel.Debug, "{Connection}: timed out; connection reset")]
    public static partial void ConnectionTimedOut(ILogger logger, string connection);

    [LoggerMessage(16, LogLevel.Trace, "tx {Packet}")]
    public static partial void TxPacket(ILogger logger, string packet);

    [LoggerMessage(17, LogLevel.Trace, "rx {Packet}")]
    public static partial void RxPacket(ILogger logger, string packet);

    [LoggerMessage(19, LogLevel.Warning, "seqpacket messages from the guest are limited to {Fits} bytes instead of {Wanted}: the host socket's send buffer cannot grow (raise net.core.wmem_max, or run with CAP_NET_ADMIN)")]
    public static partial void SeqPacketSendBufferLimited(ILogger logger, uint fits, uint wanted);

    [LoggerMessage(18, LogLevel.Trace, "state: {State}")]
    public static partial void State(ILogger logger, string state);
}
