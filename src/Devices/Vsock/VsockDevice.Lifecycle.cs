// VsockDevice.Lifecycle.cs — rings starting and stopping, device reset, and the housekeeping timer.
//
// Connections outlive a pause (QEMU stops and restarts the rings with the same base), but not a
// new driver: when the tx ring restarts from its initial position after having moved, the guest
// rebooted and its sockets are gone, so the host sides are closed. A front end that disconnects
// resets the device the same way. Listeners stay up throughout, so host programs can connect
// to a guest that boots later, and a new QEMU is served on the same sockets.
using VhostUser.Backend;
using VhostUser.Unix;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a host connection may take to send its CONNECT line.</summary>
    private const long HandshakeTimeoutMs = 10_000;

    /// <summary>How long the guest may take to answer a REQUEST.</summary>
    private const long ConnectTimeoutMs = 10_000;

    /// <summary>How long a closing connection may wait for the host to take the last bytes (Linux's VSOCK_CLOSE_TIMEOUT is 8 s).</summary>
    private const long CloseTimeoutMs = 10_000;

    /// <summary>A CREDIT_REQUEST left unanswered this long is sent again.</summary>
    private const long CreditRetryMs = 1_000;

    private readonly TimerFd _timer = TimerFd.Create();
    private readonly List<VsockConnection> _expired = [];
    private IDisposable? _timerWatch;
    private IDisposable? _mailboxWatch;
    private uint? _stoppedTxBase;

    public override void OnQueueStarted(DeviceQueue queue)
    {
        if (queue.Index == TxQueue)
        {
            uint initial = queue.Virtqueue.IsPacked ? 0x8000_8000u : 0u;
            uint position = queue.Virtqueue.GetBase();
            if (position == initial && _stoppedTxBase is { } stopped && stopped != initial)
            {
                Log.DriverRestarted(_logger, _connections.Count);
                DropAllConnections();
            }
        }
        _running = Context.Queues[RxQueue].IsStarted && Context.Queues[TxQueue].IsStarted;
    }

    public override bool OnQueueStopping(DeviceQueue queue)
    {
        _running = false;
        if (queue.Index == RxQueue)
        {
            _rxHeld.Clear(); // held rx buffers go back to the driver (the framework rewinds them)
        }
        else
        {
            _stoppedTxBase = queue.Virtqueue.GetBase();
        }
        return true;
    }

    public override void Reset() => Context.Workers[0].Invoke(() =>
    {
        _running = false;
        DropAllConnections();
        _rxHeld.Clear();
        _stoppedTxBase = null;
    });

    private void DropAllConnections()
    {
        foreach (var connection in _connections.Values)
        {
            CloseHostSide(connection);
        }
        _connections.Clear();
        _rxReady.Clear();
        ClearReplies();
        ReturnSiblingPacket();
        _mailbox.Clear();
        _mailboxPending = false;
    }

    /// <summary>Once a second: time out handshakes, unanswered REQUESTs and closings; repeat unanswered CREDIT_REQUESTs.</summary>
    private void OnTimer()
    {
        _timer.Drain();
        TraceState();
        long now = Environment.TickCount64;
        for (int i = _handshakes.Count - 1; i >= 0; i--)
        {
            if (now > _handshakes[i].Deadline)
            {
                EndHandshake(_handshakes[i], closeSocket: true);
            }
        }
        _expired.Clear();
        foreach (var connection in _connections.Values)
        {
            if (connection.Deadline != 0 && now > connection.Deadline)
            {
                _expired.Add(connection);
            }
            else if (connection.CreditRequested && now - connection.CreditRequestedAt > CreditRetryMs)
            {
                connection.CreditRequested = false;
                _expired.Add(connection); // rescheduled below, not reset
            }
        }
        foreach (var connection in _expired)
        {
            if (connection.Deadline != 0 && now > connection.Deadline)
            {
                Log.ConnectionTimedOut(_logger, connection.ToString());
                ResetConnection(connection);
            }
            else
            {
                ScheduleRx(connection);
            }
        }
        _expired.Clear();
        PumpRx();
    }

    private void TraceState()
    {
        if (!_logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace))
        {
            return;
        }
        var text = new System.Text.StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"rx held {_rxHeld.Count}, ready {_rxReady.Count}, control {_control.Count}, running {_running}");
        foreach (var c in _connections.Values)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"; {c} readable={c.HostReadable} eof={c.HostEof} inRx={c.InRxQueue} credit={c.PeerCredit} (buf {c.PeerBufAlloc} tx {c.TxCnt} fwd {c.PeerFwdCnt}) requested={c.CreditRequested} ")
                .Append(System.Globalization.CultureInfo.InvariantCulture,
                $"pending={c.Pending.Count} rxcnt={c.RxCnt} fwdcnt={c.FwdCnt} lastsent={c.LastSentFwdCnt} owes(upd={c.SendCreditUpdate} shut={c.SendShutdownFlags})");
        }
        Log.State(_logger, text.ToString());
    }
}
