// InflightReconnectTests.cs — INFLIGHT_SHMFD end to end (vhost-user-protocol.md §11): the front
// end gets the area with GET_INFLIGHT_FD and hands it back with SET_INFLIGHT_FD, the connection
// drops while chains are under I/O (what QEMU sees when the back end is killed), and the next
// connection resubmits those chains — only those, each once, in the order they were first
// fetched, before new ones. The order is made to differ from id order on purpose.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using VhostUser.Backend;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests;

public sealed class InflightReconnectTests
{
    private const int Size = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reconnect_ConnectionLostWithChainsUnderIo_NextConnectionResubmitsThemInFetchOrder(bool packed)
    {
        var device = new HoldingDevice();
        using var daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        using var memory = SharedGuestMemory.Create(1 << 20);
        var features = VirtioFeatures.Version1 | (packed ? VirtioFeatures.RingPacked : 0);
        var queue = DriverQueue.Create(memory, Size, features);
        using var kick = EventFd.Create();
        using var call = EventFd.Create();

        var (first, firstThread) = Connect(daemon);
        Assert.True((first.Negotiate().AckedProtocolFeatures & ProtocolFeatures.InflightShmfd) != 0);
        var area = first.GetInflightFd(1, Size, out var areaFd);
        Assert.NotNull(areaFd);
        // Room for the largest ring the device accepts (1024), not just the announced queue size:
        // QEMU announces its queue-size property while a virtio-mmio guest may pick a larger ring.
        Assert.Equal((ulong)InflightLayout.AreaSize(1, device.MaxQueueSize), area.MmapSize);
        using var areaDescriptor = areaFd;
        StartRing(first, features, memory, queue, area, areaDescriptor, kick, call, ringBase: queue.InitialBase);
        ScrambleIds(device, queue, kick);
        var ids = new List<ushort>();
        for (byte tag = 1; tag <= 4; tag++)
        {
            ids.Add(Offer(queue, kick, tag));
        }
        Assert.Equal([.. ids.OrderDescending()], ids); // premise: fetch order is not id order
        device.WaitForPops(4);
        device.Complete(2);
        WaitForUsed(queue, ids[1]);

        first.Dispose(); // the back end "dies" with tags 1, 3, 4 under I/O
        Assert.True(firstThread.Join(Timeout), "the daemon did not finish the lost connection");
        var (second, secondThread) = Connect(daemon);
        second.Negotiate();
        uint restored = packed ? queue.InitialBase : queue.ReadUsedIndex(); // what QEMU sends after a crash
        StartRing(second, features, memory, queue, area, areaDescriptor, kick, call, restored);

        Assert.Equal(new byte[] { 1, 3, 4 }, device.WaitForPops(3));
        ushort fifth = Offer(queue, kick, 5);
        Assert.Equal(new byte[] { 5 }, device.WaitForPops(1));
        foreach (byte tag in new byte[] { 4, 1, 5, 3 })
        {
            device.Complete(tag);
        }
        var returned = new[] { WaitForAnyUsed(queue), WaitForAnyUsed(queue), WaitForAnyUsed(queue), WaitForAnyUsed(queue) };
        Assert.Equal(new[] { ids[0], ids[2], ids[3], fifth }.Order(), returned.Order());
        Assert.Equal(0, queue.InFlightCount);
        second.Dispose();
        Assert.True(secondThread.Join(Timeout));
    }

    [Fact]
    public void GetInflightFd_NotNegotiated_AnsweredWithoutArea()
    {
        var device = new HoldingDevice();
        using var daemon = new VhostUserDaemon(device, NullLoggerFactory.Instance);
        var (frontend, thread) = Connect(daemon);
        frontend.Negotiate(VhostUserFrontend.SupportedProtocolFeatures & ~ProtocolFeatures.InflightShmfd);

        var area = frontend.GetInflightFd(1, Size, out var fd);

        Assert.Equal(0UL, area.MmapSize);
        Assert.Null(fd);
        frontend.Dispose();
        Assert.True(thread.Join(Timeout));
    }

    private static (VhostUserFrontend Frontend, Thread Thread) Connect(VhostUserDaemon daemon)
    {
        var (frontendEnd, backendEnd) = UnixSocket.SocketPair();
        frontendEnd.SetTimeout(Timeout);
        var thread = new Thread(() => daemon.ServeConnection(backendEnd)) { IsBackground = true, Name = "inflight daemon" };
        thread.Start();
        return (new VhostUserFrontend(frontendEnd), thread);
    }

    /// <summary>What QEMU's vhost_user_blk_start does: features, memory, SET_INFLIGHT_FD, then the ring.</summary>
    private static void StartRing(VhostUserFrontend frontend, VirtioFeatures features, SharedGuestMemory memory, DriverQueue queue,
        InflightRegion area, FileDescriptor areaFd, EventFd kick, EventFd call, uint ringBase)
    {
        frontend.SetFeatures(features | VirtioFeatures.ProtocolFeatures);
        frontend.SetMemTable(memory);
        frontend.SetInflightFd(area, areaFd);
        frontend.SetVringNum(0, queue.Size);
        frontend.SetVringBase(0, ringBase);
        frontend.SetVringAddr(0, queue.UserAddresses);
        frontend.SetVringCall(0, call);
        frontend.SetVringKick(0, kick);
        frontend.SetVringEnable(0, true);
    }

    /// <summary>Fills the ring and completes in reverse order: the driver then hands out ids in descending order.</summary>
    private static void ScrambleIds(HoldingDevice device, DriverQueue queue, EventFd kick)
    {
        var ids = Enumerable.Range(0, Size).Select(_ => Offer(queue, kick, 0)).ToList();
        device.WaitForPops(Size);
        foreach (ushort id in Enumerable.Reverse(ids))
        {
            device.CompleteNewest();
            WaitForUsed(queue, id);
        }
    }

    private static ushort Offer(DriverQueue queue, EventFd kick, byte tag)
    {
        ushort id = queue.Offer(DriverBuffer.Readable(new[] { tag }));
        kick.Signal();
        return id;
    }

    private static void WaitForUsed(DriverQueue queue, ushort id) => Assert.Equal(id, WaitForAnyUsed(queue));

    private static ushort WaitForAnyUsed(DriverQueue queue)
    {
        var deadline = DateTime.UtcNow + Timeout;
        UsedElement used;
        while (!queue.TryTakeUsed(out used))
        {
            Assert.True(DateTime.UtcNow < deadline, "no used buffer in time");
            Thread.Sleep(1);
        }
        return (ushort)used.Id;
    }

    /// <summary>
    /// Holds every chain as if it were under I/O and records each chain's tag (its one readable
    /// byte) in pop order; the test completes chains by tag. Opts into INFLIGHT_SHMFD.
    /// </summary>
    private sealed class HoldingDevice : VirtioDevice
    {
        private readonly List<(byte Tag, DescriptorChain Chain)> _held = []; // worker thread only
        private readonly BlockingCollection<byte> _popped = [];
        private DeviceQueue? _queue;

        public override VirtioDeviceType DeviceType => VirtioDeviceType.Block;

        public override int QueueCount => 1;

        public override VirtioFeatures DeviceFeatures => VirtioFeatures.None;

        public override ProtocolFeatures ExtraProtocolFeatures => ProtocolFeatures.InflightShmfd;

        public override void ProcessQueue(DeviceQueue queue)
        {
            _queue = queue;
            Span<byte> tag = stackalloc byte[1];
            while (queue.TryPop(out var chain))
            {
                chain.CreateReader().Read(tag);
                _held.Add((tag[0], chain));
                _popped.Add(tag[0]);
            }
        }

        public override void Reset() => Context.Workers[0].Invoke(_held.Clear);

        public byte[] WaitForPops(int count)
        {
            var tags = new byte[count];
            for (int i = 0; i < count; i++)
            {
                Assert.True(_popped.TryTake(out tags[i], Timeout), $"only {i} of {count} chains popped");
            }
            return tags;
        }

        public void Complete(byte tag) => Context.Workers[0].Invoke(() => Finish(_held.FindIndex(h => h.Tag == tag)));

        public void CompleteNewest() => Context.Workers[0].Invoke(() => Finish(_held.Count - 1));

        private void Finish(int index)
        {
            var chain = _held[index].Chain;
            _held.RemoveAt(index);
            _queue!.Complete(chain, 0);
            _queue.FlushNotification();
        }
    }
}
