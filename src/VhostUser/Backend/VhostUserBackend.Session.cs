// VhostUserBackend.Session.cs — ownership, status, reset and the back-end request channel, and
// the clean-up when the front end goes away (the device is reset so the next connection starts
// fresh: guest reboot, QEMU restart, reconnect).
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    private bool _owned;
    private byte _status;
    private BackendChannel? _channel;

    /// <summary>True after SET_OWNER.</summary>
    public bool IsOwned => _owned;

    private bool SetOwner(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _owned = true;
        return false;
    }

    private bool ResetOwner(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        ResetDevice("RESET_OWNER");
        _owned = false;
        return false;
    }

    private bool ResetDeviceRequest(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        ResetDevice("RESET_DEVICE");
        return false;
    }

    /// <summary>
    /// SET_STATUS records the status byte for GET_STATUS (STATUS feature; vhost-user-protocol.md
    /// §13). Status 0 is not a device reset here. QEMU's vhost_user_reset_status sends it at the
    /// end of vhost_dev_stop, after GET_VRING_BASE stopped every ring, and vhost_dev_stop runs for
    /// a guest reset and for a VM stop alike; after a stop QEMU restarts the rings at the bases it
    /// saved and expects the device as it left it (the 2023 qemu-devel thread on
    /// vhost_user_reset_status notes that no back end treats SET_STATUS 0 as a reset). So the
    /// rings are already stopped, and the device keeps its state; RESET_DEVICE resets it.
    /// </summary>
    private bool SetStatus(ReceivedMessage m)
    {
        ExpectNoFds(m);
        ulong value = m.Read<U64Payload>().Value;
        if (value > byte.MaxValue)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload, $"SET_STATUS 0x{value:x} is not a status byte");
        }
        _status = (byte)value;
        Log.Status(_logger, _status);
        return false;
    }

    private bool GetStatus(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        ExpectNoFds(m);
        _connection.Reply((uint)m.Request, new U64Payload(_status));
        return true;
    }

    private bool SetBackendReqFd(ReceivedMessage m)
    {
        m.ExpectNoPayload();
        m.Fds.Expect(1, m.Request);
        if (!HasProtocolFeature(ProtocolFeatures.BackendReq))
        {
            throw new ProtocolException(ProtocolError.FeatureNotNegotiated, "SET_BACKEND_REQ_FD without BACKEND_REQ");
        }
        var channel = new BackendChannel(UnixSocket.FromDescriptor(m.Fds.Take(0)), _logger);
        var old = _channel;
        _channel = channel;
        _context.Channel = channel;
        old?.Dispose();
        return false;
    }

    /// <summary>
    /// Stops every ring, forgets every queue setting and resets the device; keeps the session.
    /// <paramref name="abandon"/>: see StopRing (connection lost with an inflight area).
    /// </summary>
    private void ResetDevice(string reason, bool abandon = false)
    {
        for (int i = 0; i < _queues.Length; i++)
        {
            if (_rings[i].Started)
            {
                StopRing(i, abandon);
            }
            var queue = _queues[i];
            queue.Worker.Invoke(queue.Reset);
            _rings[i] = new RingSetup();
        }
        _ackedFeatures = 0;
        _status = 0;
        _device.AckedFeatures = 0;
        _device.Reset();
        Log.DeviceReset(_logger, reason);
    }

    /// <summary>
    /// The front end is gone: reset the device, drop the channel, unmap memory. With an inflight
    /// area, chains under I/O are left to it (the front end hands it to the next connection,
    /// which resubmits them) instead of being waited for and completed into a ring whose front
    /// end may already have restored its position.
    /// </summary>
    private void CloseSession()
    {
        ResetDevice("front end disconnected", abandon: HasInflightArea);
        _context.Channel = null;
        _context.SaveCrashSafeState = null;
        _channel?.Dispose();
        _channel = null;
        DisposeInflightArea();
        DisposeMemory();
        _ackedProtocolFeatures = 0;
        _owned = false;
        _connection.Dispose();
    }
}
