// VhostUserBackend.Vrings.cs — ring setup and the ring life cycle (vhost-user-protocol.md §8):
// SET_VRING_NUM/ADDR/BASE record the layout; SET_VRING_KICK starts the ring on its worker;
// SET_VRING_ENABLE enables it; GET_VRING_BASE stops it after the device has drained it.
using System.Diagnostics;
using VhostUser.Memory;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    /// <summary>How long GET_VRING_BASE waits for a device to finish chains under I/O by default.</summary>
    internal static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long GET_VRING_BASE waits for a device to finish chains under I/O.</summary>
    internal TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    private readonly RingSetup[] _rings;

    /// <summary>The control thread's record of a ring's configuration.</summary>
    private sealed class RingSetup
    {
        public int Size;
        public uint Base;
        public VringAddress? Address;
        public bool Started;
        public bool Enabled;
    }

    private bool AnyRingStarted() => Array.Exists(_rings, r => r.Started);

    private bool SetVringNum(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var state = m.Read<VringState>();
        GetQueue(state.Index, m.Request);
        var ring = _rings[state.Index];
        RequireStopped(ring, state.Index, m.Request);
        if (state.Num == 0 || state.Num > (uint)_device.MaxQueueSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"SET_VRING_NUM: queue {state.Index} size {state.Num} is outside 1..{_device.MaxQueueSize}");
        }
        ring.Size = (int)state.Num;
        return false;
    }

    private bool SetVringAddr(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var address = m.Read<VringAddress>();
        GetQueue(address.Index, m.Request);
        // VHOST_VRING_F_LOG asks us to log used-ring writes into the dirty log (§12). We keep no
        // log (neither LOG_ALL nor LOG_SHMFD is offered, so QEMU never migrates with us and never
        // sets it): accepting it would promise a log that is never written.
        if ((address.Flags & VringAddress.FlagLog) != 0)
        {
            throw new ProtocolException(ProtocolError.FeatureNotNegotiated,
                $"SET_VRING_ADDR: queue {address.Index} asks for used-ring logging (VHOST_VRING_F_LOG); this back end does no dirty logging");
        }
        var ring = _rings[address.Index];
        if (ring.Started && ring.Address is { } current && !SameAreas(current, address))
        {
            throw new ProtocolException(ProtocolError.InvalidState,
                $"SET_VRING_ADDR moves queue {address.Index} while it runs");
        }
        ring.Address = address;
        return false;
    }

    private bool SetVringBase(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var state = m.Read<VringState>();
        GetQueue(state.Index, m.Request);
        var ring = _rings[state.Index];
        RequireStopped(ring, state.Index, m.Request);
        ring.Base = state.Num;
        return false;
    }

    private bool SetVringKick(ReceivedMessage m)
    {
        var file = m.Read<VringFileIndex>();
        var queue = GetQueue((uint)file.Index, m.Request);
        if (file.NoFd)
        {
            m.Fds.Expect(0, m.Request);
            throw new ProtocolException(ProtocolError.Unsupported,
                $"SET_VRING_KICK without an fd (polling mode) is not supported (queue {file.Index})");
        }
        m.Fds.Expect(1, m.Request);
        var ring = _rings[file.Index];
        if (ring.Started)
        {
            // A new kick fd for a running ring: restart it in place at its current position.
            StopRing(file.Index);
        }
        var kick = EventFd.FromDescriptor(m.Fds.Take(0));
        try
        {
            var layout = TranslateLayout(ring, file.Index);
            var memory = _memory;
            var features = _ackedFeatures;
            uint ringBase = ring.Base;
            var inflight = InflightFor(file.Index, ring.Size);
            queue.Worker.Invoke(() => queue.Start(layout, features, ringBase, memory, kick, inflight));
        }
        catch
        {
            kick.Dispose();
            throw;
        }
        ring.Started = true;
        return false;
    }

    private bool SetVringCall(ReceivedMessage m)
    {
        var queue = ReceiveVringFd(m, out var fd);
        var old = default(EventFd);
        try
        {
            queue.Worker.Invoke(() => old = queue.SwapCall(fd));
        }
        catch
        {
            fd?.Dispose(); // refused: the previous call fd stays installed
            throw;
        }
        old?.Dispose();
        return false;
    }

    private bool SetVringErr(ReceivedMessage m)
    {
        var queue = ReceiveVringFd(m, out var fd);
        var old = default(EventFd);
        queue.Worker.Invoke(() => old = queue.SwapErr(fd));
        old?.Dispose();
        return false;
    }

    private bool SetVringEnable(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var state = m.Read<VringState>();
        GetQueue(state.Index, m.Request);
        if ((_ackedFeatures & VirtioFeatures.ProtocolFeatures) == 0 && _ackedFeatures != 0)
        {
            throw new ProtocolException(ProtocolError.FeatureNotNegotiated,
                "SET_VRING_ENABLE needs PROTOCOL_FEATURES (bit 30) in SET_FEATURES");
        }
        if (state.Num > 1)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload, $"SET_VRING_ENABLE num must be 0 or 1, got {state.Num}");
        }
        SetRingEnabled((int)state.Index, state.Num == 1);
        return false;
    }

    private bool GetVringBase(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var state = m.Read<VringState>();
        GetQueue(state.Index, m.Request);
        var ring = _rings[state.Index];
        if (ring.Started)
        {
            StopRing((int)state.Index);
        }
        _connection.Reply((uint)m.Request, new VringState(state.Index, ring.Base));
        return true;
    }

    /// <summary>
    /// Stops a started ring: the device drains or drops its chains, then the base is saved.
    /// With <paramref name="abandon"/> (the connection is gone and an inflight area records what
    /// is in flight) chains under I/O are not waited for: they stay in the area for the next
    /// connection to resubmit, exactly as if this process had died.
    /// </summary>
    private void StopRing(int index, bool abandon = false)
    {
        var queue = _queues[index];
        var ring = _rings[index];
        bool rewind = false;
        queue.Worker.Invoke(() => rewind = queue.BeginStop());
        if (!rewind && !abandon)
        {
            WaitForDrain(queue);
        }
        uint ringBase = 0;
        queue.Worker.Invoke(() => ringBase = queue.FinishStop(rewind, abandon));
        ring.Base = ringBase;
        ring.Started = false;
    }

    private void WaitForDrain(DeviceQueue queue)
    {
        var clock = Stopwatch.StartNew();
        while (queue.InFlightCount > 0) // a racy read is fine for polling; FinishStop rechecks on the worker
        {
            if (clock.Elapsed > DrainTimeout)
            {
                Log.DrainTimeout(_logger, queue.Index, queue.InFlightCount, DrainTimeout.TotalSeconds);
                return;
            }
            Thread.Sleep(1);
        }
    }

    private void SetRingEnabled(int index, bool enabled)
    {
        _rings[index].Enabled = enabled;
        var queue = _queues[index];
        queue.Worker.Invoke(() => queue.SetEnabled(enabled));
    }

    /// <summary>
    /// The queue and fd of a SET_VRING_CALL or SET_VRING_ERR. The fd is checked before anything
    /// is installed: one we could not signal (the read end of a pipe, a socket) is refused and
    /// closed, and the queue keeps the fd it had (rst: these are eventfds).
    /// </summary>
    private DeviceQueue ReceiveVringFd(ReceivedMessage m, out EventFd? fd)
    {
        var file = m.Read<VringFileIndex>();
        var queue = GetQueue((uint)file.Index, m.Request);
        m.Fds.Expect(file.NoFd ? 0 : 1, m.Request);
        fd = null;
        if (!file.NoFd)
        {
            var descriptor = m.Fds.Take(0);
            try
            {
                if (EventFd.WhyNotSignallable(descriptor) is { } problem)
                {
                    throw new ProtocolException(ProtocolError.InvalidFd, $"{m.Request}: the fd for queue {file.Index} {problem}");
                }
            }
            catch
            {
                descriptor.Dispose();
                throw;
            }
            fd = EventFd.FromDescriptor(descriptor);
        }
        return queue;
    }

    /// <summary>Turns the front end's ring addresses into guest-physical ones through the memory table.</summary>
    private VirtqueueLayout TranslateLayout(RingSetup ring, int index)
    {
        if (ring.Size == 0 || ring.Address is not { } address)
        {
            throw new ProtocolException(ProtocolError.InvalidState,
                $"SET_VRING_KICK: queue {index} has no {(ring.Size == 0 ? "size" : "addresses")} yet");
        }
        bool packed = (_ackedFeatures & VirtioFeatures.RingPacked) != 0;
        int n = ring.Size;
        var desc = Translate(address.DescriptorUserAddress, packed ? PackedRing.DescriptorRingSize(n) : SplitRing.DescriptorTableSize(n), index, "descriptor");
        var driver = Translate(address.AvailUserAddress, packed ? PackedRing.EventSize : SplitRing.AvailRingSize(n), index, "driver");
        var device = Translate(address.UsedUserAddress, packed ? PackedRing.EventSize : SplitRing.UsedRingSize(n), index, "device");
        return new VirtqueueLayout(n, desc, driver, device);
    }

    private GuestAddress Translate(ulong userAddress, int length, int index, string area)
    {
        if (!_memory.TryTranslateUserAddress(userAddress, (ulong)length, out var address))
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"queue {index}: {area} area at front-end address 0x{userAddress:x} (+0x{length:x}) is not in the memory table");
        }
        return address;
    }

    private static void RequireStopped(RingSetup ring, uint index, FrontendRequest request)
    {
        if (ring.Started)
        {
            throw new ProtocolException(ProtocolError.InvalidState, $"{request}: queue {index} is running");
        }
    }

    private static bool SameAreas(VringAddress a, VringAddress b) =>
        a.DescriptorUserAddress == b.DescriptorUserAddress && a.AvailUserAddress == b.AvailUserAddress && a.UsedUserAddress == b.UsedUserAddress;
}
