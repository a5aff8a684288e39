// SessionTests.cs — the session around the rings: SET_STATUS / GET_STATUS, RESET_DEVICE (rings
// stopped, device reset, session and memory kept; vhost-user-protocol.md §4 id 34), and a front
// end that goes away and comes back on the daemon's listening socket (QEMU restart, reconnect-ms).
using VhostUser.Frontend.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using VhostUser.Backend;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests;

public sealed class SessionTests
{
    [Fact]
    public void SetStatus_ThenGetStatus_ReturnsTheByte()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate();
        Assert.Equal(0, pair.Frontend.GetStatus());

        pair.Frontend.SetStatus(0x0F);

        Assert.Equal(0x0F, pair.Frontend.GetStatus());
    }

    [Fact]
    public void SetStatusZero_AfterRingsStopped_DeviceKeptAndRingsRestartWhereTheyStopped()
    {
        // QEMU's stop/cont: vhost_dev_stop sends GET_VRING_BASE per ring, then SET_STATUS 0; on
        // cont it starts the rings again at those bases and sets the status bits again.
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: true));
        var ring = driver.Start(0);
        pair.Frontend.SetStatus(0x0F);
        Assert.Equal([1], ring.Echo([1]));
        uint stoppedAt = pair.Frontend.GetVringBase(0);

        pair.Frontend.SetStatus(0);

        Assert.Equal(0, pair.Frontend.GetStatus());
        Assert.Equal(0, pair.Device.ResetCount); // not a device reset: see VhostUserBackend.SetStatus
        pair.Frontend.SetFeatures(driver.Features);
        ring.Restart(stoppedAt);
        pair.Frontend.SetStatus(0x0F);
        Assert.Equal([2], ring.Echo([2]));
        Assert.Equal(0x8004_8004u, pair.Frontend.GetVringBase(0)); // two echoes of two slots each
    }

    [Fact]
    public void ResetDevice_RingsRunning_RingsStoppedDeviceResetSessionKept()
    {
        using var pair = new BackendPair(new FakeDevice(queueCount: 2));
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: true));
        Assert.Equal("one"u8.ToArray(), driver.Start(0).Echo("one"u8.ToArray()));
        driver.Start(1);
        pair.Frontend.SetStatus(0x0F);

        pair.Frontend.ResetDevice();

        Assert.Equal(0, pair.Frontend.GetStatus()); // also the barrier: RESET_DEVICE has no reply
        Assert.All(pair.Daemon.Context.Queues, q => Assert.False(q.IsStarted || q.IsEnabled));
        Assert.Equal(1, pair.Device.ResetCount);
        Assert.Equal(["stopping 0", "stopping 1", "reset"], pair.Device.Events.Where(e => e.StartsWith("stopping", StringComparison.Ordinal) || e == "reset"));
        // Same connection, memory table kept: the driver sets features and starts a fresh ring.
        Assert.Single(pair.Queue(0).Memory.Regions);
        pair.Frontend.SetFeatures(driver.Features);
        var fresh = DriverQueue.Create(driver.Memory, 8, driver.Features & ~Virtio.VirtioFeatures.ProtocolFeatures);
        using var ring = new DriverRing(pair.Frontend, 0, fresh);
        pair.Frontend.StartQueue(0, fresh, ring.Kick, ring.Call);
        Assert.Equal("two"u8.ToArray(), ring.Echo("two"u8.ToArray()));
    }

    [Fact]
    public void Disconnect_RingsRunning_DeviceResetAndQueuesStopped()
    {
        using var pair = new BackendPair(new FakeDevice());
        var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: true));
        driver.Start(0).Echo([1]);

        pair.Frontend.Dispose();

        Assert.True(pair.WaitForDisconnect(BackendPair.Timeout));
        Assert.Equal(1, pair.Device.ResetCount);
        Assert.False(pair.Queue(0).IsStarted);
        Assert.Empty(pair.Queue(0).Memory.Regions);
        driver.Dispose();
    }

    [Fact]
    public void Connect_SecondFrontEndOnListeningSocket_GetsAFreshDeviceThatWorks()
    {
        string directory = Directory.CreateTempSubdirectory("vhostd-frontend-tests-").FullName;
        string path = Path.Combine(directory, "device.sock");
        var device = new FakeDevice();
        var daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        daemon.Listen(path);
        var serving = new Thread(daemon.Serve) { IsBackground = true, Name = "daemon accept loop" };
        serving.Start();
        try
        {
            using (var first = VhostUserFrontend.Connect(path, BackendPair.Timeout))
            using (var driver = new Driver(first, Driver.RingFeatures(packed: true, eventIdx: true)))
            {
                Assert.Equal("first"u8.ToArray(), driver.Start(0).Echo("first"u8.ToArray()));
                first.SetStatus(0x0F);
            }
            Assert.True(SpinWait.SpinUntil(() => device.ResetCount == 1, BackendPair.Timeout));

            using (var second = VhostUserFrontend.Connect(path, BackendPair.Timeout))
            using (var driver = new Driver(second, Driver.RingFeatures(packed: false, eventIdx: false)))
            {
                Assert.Equal(0, second.GetStatus());
                Assert.Equal("second"u8.ToArray(), driver.Start(0).Echo("second"u8.ToArray()));
                Assert.Equal(Virtio.VirtioFeatures.None, device.NegotiatedFeatures & Virtio.VirtioFeatures.RingPacked);
            }
        }
        finally
        {
            daemon.Stop();
            Assert.True(serving.Join(BackendPair.Timeout));
            daemon.Dispose();
            Directory.Delete(directory, recursive: true);
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Adopt_ConnectedSocket_ServedAsTheOneFrontEndAndServeReturnsWhenItCloses()
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(BackendPair.Timeout);
        var device = new FakeDevice();
        using var daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        daemon.Adopt(backendEnd.Descriptor); // libvirt-style: one end of a socketpair, already connected
        var serving = new Thread(daemon.Serve) { IsBackground = true, Name = "daemon serving --fd" };
        serving.Start();

        using (var frontend = new VhostUserFrontend(frontendEnd))
        using (var driver = new Driver(frontend, Driver.RingFeatures(packed: false, eventIdx: true)))
        {
            Assert.Equal("over --fd"u8.ToArray(), driver.Start(0).Echo("over --fd"u8.ToArray()));
        }

        Assert.True(serving.Join(BackendPair.Timeout), "Serve did not return after the front end closed the connected socket");
        Assert.Equal(1, device.ResetCount);
    }

    [Fact]
    public void Adopt_ListeningSocket_AcceptsFrontEnds()
    {
        string directory = Directory.CreateTempSubdirectory("vhostd-frontend-tests-").FullName;
        string path = Path.Combine(directory, "inherited.sock");
        using var listener = UnixSocket.Listen(path);
        var device = new FakeDevice();
        var daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        daemon.Adopt(listener.Descriptor.Duplicate());
        var serving = new Thread(daemon.Serve) { IsBackground = true, Name = "daemon accept loop" };
        serving.Start();
        try
        {
            using var frontend = VhostUserFrontend.Connect(path, BackendPair.Timeout);
            using var driver = new Driver(frontend, Driver.RingFeatures(packed: true, eventIdx: false));
            Assert.Equal([5], driver.Start(0).Echo([5]));
        }
        finally
        {
            daemon.Stop();
            Assert.True(serving.Join(BackendPair.Timeout));
            daemon.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Adopt_SeqPacketSocket_Refused()
    {
        var (first, second) = UnixSocket.SocketPair(seqPacket: true);
        using (second)
        {
            using var daemon = new VhostUserDaemon(new FakeDevice(), NullLoggerFactory.Instance);
            var e = Assert.Throws<IOException>(() => daemon.Adopt(first.Descriptor));
            Assert.Contains("not a stream socket", e.Message, StringComparison.Ordinal);
            first.Dispose();
        }
    }
}
