// InflightRig.cs — a driver ring plus an inflight area (a memfd, as the back end allocates it),
// and device-side Virtqueues started on both as a back-end process would start them: the first
// one fresh, later ones as "the next process" after the previous one died, with the base QEMU
// sends after a back-end crash (split: used->idx; packed: the stale initial value).
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Tests.Infrastructure;

public sealed class InflightRig : IDisposable
{
    private readonly SharedGuestMemory _memory;
    private readonly FileDescriptor _areaFd;
    private readonly MappedRegion _area;

    private InflightRig(SharedGuestMemory memory, DriverQueue driver, FileDescriptor areaFd, MappedRegion area)
    {
        _memory = memory;
        Driver = driver;
        Backend = memory.CreateBackendMemory();
        _areaFd = areaFd;
        _area = area;
    }

    public DriverQueue Driver { get; }

    public GuestMemory Backend { get; }

    public int Size => Driver.Size;

    /// <summary>The queue region's bytes (what the front end keeps).</summary>
    public Span<byte> Region => _area.GetSpan(0, (int)InflightLayout.QueueRegionSize(Size));

    public static InflightRig Create(bool packed, int size, bool indirect = false)
    {
        var memory = SharedGuestMemory.Create(1 << 20);
        var driver = DriverQueue.Create(memory, size, RingConfigs.Features(packed, eventIdx: false, indirect));
        long bytes = InflightLayout.AreaSize(1, size);
        var fd = MemFd.Create("inflight-test", bytes);
        return new InflightRig(memory, driver, fd, MappedRegion.Map(fd, (ulong)bytes));
    }

    /// <summary>A fresh device-side queue on the ring and the area (a new back-end process).</summary>
    public Virtqueue StartDevice(uint? ringBase = null)
    {
        var queue = new Virtqueue(0);
        queue.Configure(Driver.Layout, Driver.Features);
        queue.SetBase(ringBase ?? Driver.InitialBase);
        queue.AttachInflight(new InflightQueue(_area, 0, Size));
        queue.Start(Backend);
        return queue;
    }

    /// <summary>
    /// The next process after a crash: QEMU restores a split ring's base to used->idx and keeps
    /// the last known (here: initial) value for a packed ring.
    /// </summary>
    public Virtqueue RestartAfterCrash() => StartDevice(Driver.IsPacked ? Driver.InitialBase : Driver.ReadUsedIndex());

    /// <summary>Offers a chain whose one readable byte is <paramref name="tag"/> plus a writable byte.</summary>
    public ushort Offer(byte tag) => Driver.Offer(DriverBuffer.Readable(new[] { tag }), DriverBuffer.Writable(1));

    public static DescriptorChain Pop(Virtqueue device)
    {
        Assert.True(device.TryPop(out var chain), "expected a chain");
        return chain;
    }

    /// <summary>The first readable byte of a chain (its tag).</summary>
    public static byte Tag(in DescriptorChain chain) => ChainData.ReadAll(chain)[0];

    public void Dispose()
    {
        _area.Dispose();
        _areaFd.Dispose();
        _memory.Dispose();
    }
}
