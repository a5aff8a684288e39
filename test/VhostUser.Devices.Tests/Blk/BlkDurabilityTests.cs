// BlkDurabilityTests.cs — what keeps a guest's writes safe beyond one request: the cache mode the
// driver chose survives a device reset, a front end reconnecting and the daemon's own restart (the
// inflight area carries it, as QEMU never sends SET_CONFIG again); a write-zeroes done with
// fallocate is made durable before its status in write-through mode; a front end that may have
// missed a resize is told when its ring starts.
using System.Buffers.Binary;
using VhostUser.Devices.Blk;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkDurabilityTests : IDisposable
{
    private static readonly VirtioFeatures Wanted = VirtioFeatures.Version1 | BlkFeatures.Flush | BlkFeatures.ConfigWce
        | BlkFeatures.WriteZeroes | BlkFeatures.Discard | BlkFeatures.BlkSize;

    private readonly string _image = Path.Combine(Path.GetTempPath(), $"vhostd-blk-dur-{Guid.NewGuid():N}.img");

    public BlkDurabilityTests()
    {
        using var file = File.Create(_image);
        file.SetLength(1 << 20);
    }

    [Fact]
    public void CacheMode_DaemonRestartedOntoTheSameInflightArea_StaysWriteThrough()
    {
        InflightRegion region;
        FileDescriptor area;
        using (var first = new Served(_image))
        {
            region = first.Frontend.GetInflightFd(1, 16, out var fd);
            area = fd!;
            first.SetInflightFd(region, area);
            first.Frontend.SetConfig(BlkConfig.WritebackOffset, [0]); // the guest chose write-through
            Assert.True(first.Device.WriteThrough);
        } // the daemon dies; the front end keeps the area

        using (area)
        using (var restarted = new Served(_image))
        {
            Assert.True(restarted.Device.Config.WriteBack); // a new process starts write-back ...
            restarted.SetInflightFd(region, area);
            Assert.False(restarted.Device.Config.WriteBack); // ... and learns the guest's choice from the area
            Assert.True(restarted.Device.WriteThrough);
            Assert.Equal(0, restarted.Frontend.GetConfig(BlkConfig.WritebackOffset, 1)[0]);
        }
    }

    [Fact]
    public void CacheMode_FreshInflightArea_KeepsTheDaemonsModeAndRecordsIt()
    {
        using var served = new Served(_image);
        served.Frontend.SetConfig(BlkConfig.WritebackOffset, [0]);
        var region = served.Frontend.GetInflightFd(1, 16, out var fd);
        using var area = fd!;

        served.SetInflightFd(region, area); // zero-filled: nothing to restore

        Assert.True(served.Device.WriteThrough);
        using var restarted = new Served(_image);
        restarted.SetInflightFd(region, area);
        Assert.True(restarted.Device.WriteThrough); // the fresh area was given the current mode at once
    }

    [Fact]
    public void CacheMode_DeviceReset_IsKept()
    {
        using var served = new Served(_image);
        served.Frontend.SetConfig(BlkConfig.WritebackOffset, [0]);

        served.Frontend.ResetDevice(); // QEMU keeps its copy of writeback across a guest reset

        Assert.False(served.Device.Config.WriteBack);
    }

    [Fact]
    public void FirstRingStart_FrontEndNeverReadTheCapacity_IsToldOfTheConfig()
    {
        // A reconnecting QEMU (or one that reconnects to a restarted daemon) does not read the
        // config again: a resize it missed reaches it only through a config-change message.
        using var bed = new BlkTestBedWithChannel(readConfigFirst: false);
        Assert.True(bed.ReceivedConfigChange(), "no config change when the first ring started");
    }

    [Fact]
    public void FirstRingStart_FrontEndReadTheCurrentCapacity_SendsNothing()
    {
        using var bed = new BlkTestBedWithChannel(readConfigFirst: true);
        Assert.False(bed.ReceivedConfigChange(), "a config change although the front end knew the capacity");
    }

    [Fact]
    public void WriteZeroes_WriteThrough_SyncsBeforeTheStatusAndStillZeroes()
    {
        using var bed = new BlkTestBed();
        bed.WriteImage(0, Enumerable.Repeat((byte)0xCD, 8192).ToArray());
        bed.Frontend.SetConfig(BlkConfig.WritebackOffset, [0]);

        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(0, 16, 0)));
        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(0, 8, BlkDiscardSegment.FlagUnmap)));

        Assert.All(bed.ReadImage(0, 8192), b => Assert.Equal(0, b));
        Assert.Equal(2, bed.Device.DurabilitySyncs); // each fallocate followed by an fdatasync (the image is on a file system with fallocate)
    }

    public void Dispose() => File.Delete(_image);

    /// <summary>A blk device on the image, served in process, negotiated with INFLIGHT_SHMFD, no rings.</summary>
    private sealed class Served : IDisposable
    {
        private readonly InProcessDaemon _daemon;
        private readonly DriverHarness _driver;

        public Served(string image)
        {
            Device = new BlkDevice(BlkOptions.Create(image, null, false, false, null, 512, null, 1, 256, 0, "uring", 2, null));
            _daemon = new InProcessDaemon(Device);
            _driver = new DriverHarness(_daemon.Frontend, Wanted);
        }

        public BlkDevice Device { get; }

        public VhostUser.Frontend.VhostUserFrontend Frontend => _daemon.Frontend;

        public DriverHarness Driver => _driver;

        /// <summary>SET_INFLIGHT_FD (no reply), then a request with a reply so that the back end has handled it.</summary>
        public void SetInflightFd(InflightRegion region, FileDescriptor area)
        {
            Frontend.SetInflightFd(region, area);
            Frontend.GetFeatures();
        }

        public void Dispose()
        {
            _daemon.Dispose();
            _driver.Dispose();
            Device.Dispose();
        }
    }

    /// <summary>A blk device with a back-end channel, whose first ring is started after the capacity was (or was not) read.</summary>
    private sealed class BlkTestBedWithChannel : IDisposable
    {
        private readonly string _image = Path.Combine(Path.GetTempPath(), $"vhostd-blk-ch-{Guid.NewGuid():N}.img");
        private readonly Served _served;
        private readonly UnixSocket _channel;

        public BlkTestBedWithChannel(bool readConfigFirst)
        {
            using (var file = File.Create(_image))
            {
                file.SetLength(1 << 20);
            }
            _served = new Served(_image);
            var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
            _channel = frontendEnd;
            _channel.SetTimeout(TimeSpan.FromMilliseconds(500));
            _served.Frontend.SetBackendReqFd(backendEnd);
            backendEnd.Dispose();
            if (readConfigFirst)
            {
                _served.Frontend.GetConfig(0, 60);
            }
            _served.Driver.StartQueue(0, 16);
        }

        public bool ReceivedConfigChange()
        {
            var header = new byte[MessageHeader.WireSize];
            try
            {
                return _channel.Receive(header, null) == header.Length
                    && BinaryPrimitives.ReadUInt32LittleEndian(header) == (uint)BackendRequest.ConfigChangeMsg;
            }
            catch (IOException)
            {
                return false; // timed out: nothing was sent
            }
        }

        public void Dispose()
        {
            _channel.Dispose();
            _served.Dispose();
            File.Delete(_image);
        }
    }
}
