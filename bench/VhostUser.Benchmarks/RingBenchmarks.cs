// RingBenchmarks.cs — the device side of one request on a split or packed ring: pop, read the
// request, write the response, AddUsed, NeedsNotification — what a request/response device's
// ProcessQueue does per chain, without the eventfds (measured end to end by bench/VhostUser.Bench).
//
// Measured region: device side only. The driver (DriverQueue in SharedGuestMemory, the same memfd
// mapped twice as a front end and a back end do) takes the used buffers back and offers Batch
// fresh chains in [IterationSetup], outside the timed and allocation-counted region; each
// iteration then times Batch requests, so ns/op is per request and "Allocated" must read 0 B.
//
// BenchmarkDotNet's "Allocated" counts every thread of the process, so background work (the
// JIT's tiering thread, timers) can show up as a few bytes per op in an in-process run. The
// benchmark therefore also counts this thread's own allocations around the loop (two calls per
// Batch requests, too cheap to show) and fails the run if the device path allocated anything.
using BenchmarkDotNet.Attributes;
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Benchmarks;

/// <summary>Pop → read → write → AddUsed → NeedsNotification per request.</summary>
/// <remarks>
/// An iteration is one invocation (the refill must run between invocations), so warm-up and
/// measurement are long in count (yet short in time: a few ms per iteration with the refill).
/// </remarks>
[MemoryDiagnoser]
[WarmupCount(60)]
[IterationCount(40)]
public class RingBenchmarks
{
    /// <summary>Requests per iteration (a 3-descriptor chain takes 3 of the RingSize slots).</summary>
    public const int Batch = 1024;

    private const int RingSize = 4096;

    private readonly byte[] _data = new byte[64];
    private readonly byte[] _status = [0];
    private SharedGuestMemory _memory = null!;
    private DriverQueue _driver = null!;
    private Virtqueue _device = null!;
    private DriverBuffer[] _chain = [];
    private long _threadAllocated;
    private long _requests;

    /// <summary>Packed ring (true) or split ring (false).</summary>
    [Params(false, true)]
    public bool Packed { get; set; }

    /// <summary>VIRTIO_F_EVENT_IDX negotiated.</summary>
    [Params(false, true)]
    public bool EventIdx { get; set; }

    /// <summary>Descriptors per request.</summary>
    [Params(ChainShape.One, ChainShape.Three, ChainShape.Indirect)]
    public ChainShape Shape { get; set; }

    /// <summary>Lays out the ring and starts the device side on a second mapping of the same RAM.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var features = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc
            | (Packed ? VirtioFeatures.RingPacked : VirtioFeatures.None)
            | (EventIdx ? VirtioFeatures.EventIdx : VirtioFeatures.None);
        _memory = SharedGuestMemory.Create(16 << 20);
        _driver = DriverQueue.Create(_memory, RingSize, features);
        _device = _driver.CreateVirtqueue(_memory.CreateBackendMemory());
        new Random(1).NextBytes(_data);
        _chain = Shape == ChainShape.One
            ? [DriverBuffer.Writable(64)]
            : [DriverBuffer.Readable(new byte[16]), DriverBuffer.Writable(64), DriverBuffer.Writable(1)];
    }

    /// <summary>Driver side, not timed: take the used buffers back and offer a fresh batch.</summary>
    [IterationSetup]
    public void Refill()
    {
        while (_driver.TryTakeUsed(out _))
        {
        }
        for (int i = 0; i < Batch; i++)
        {
            _driver.Offer(_chain, indirect: Shape == ChainShape.Indirect);
        }
        // As a driver about to sleep: ask for an interrupt at the next used buffer.
        _driver.EnableInterrupts();
    }

    /// <summary>One request, as a device handles it; returns the notifications asked for.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int PopReadWriteComplete()
    {
        Span<byte> request = stackalloc byte[16];
        int notifications = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Batch; i++)
        {
            if (!_device.TryPop(out var chain))
            {
                throw new InvalidOperationException("the ring ran dry: the refill did not offer a full batch");
            }
            var reader = chain.CreateReader();
            reader.Read(request);
            var writer = chain.CreateWriter();
            writer.Write(_data);
            writer.Write(_status);
            _device.AddUsed(chain, writer.BytesWritten);
            if (_device.NeedsNotification())
            {
                notifications++;
            }
        }
        _threadAllocated += GC.GetAllocatedBytesForCurrentThread() - before;
        _requests += Batch;
        return notifications;
    }

    /// <summary>Unmaps the RAM; fails the benchmark if the device path allocated.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        Console.WriteLine($"// device path: {_threadAllocated} bytes allocated on the benchmark thread in {_requests} requests");
        if (_threadAllocated != 0)
        {
            throw new InvalidOperationException($"the device path allocated {_threadAllocated} bytes in {_requests} requests");
        }
    }
}
