// FakeDevice.cs — the device behind the daemon in front end ↔ back end tests: configurable queue
// count, worker assignment, packed support and config space. Requests are processed as Mode says
// (echo the readable bytes into the writable buffers, or hold chains for later), and every
// framework callback is recorded so tests can assert the order the framework called them in.
//
// Threading: ProcessQueue and the queue callbacks run on queue workers; config and reset calls on
// the connection's control thread; tests read the counters from their own thread.
using System.Collections.Concurrent;
using VhostUser.Backend;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Infrastructure;

/// <summary>What <see cref="FakeDevice"/> does with a popped chain.</summary>
internal enum FakeMode
{
    /// <summary>Copy the readable bytes into the writable buffers and complete at once.</summary>
    Echo,

    /// <summary>Keep the chain (an input-style buffer held for later); dropped and rewound on stop.</summary>
    Hold,

    /// <summary>Keep the chain as if under I/O; a stop waits until <see cref="FakeDevice.CompleteHeld"/>.</summary>
    HoldUnderIo,
}

internal sealed class FakeDevice : VirtioDevice
{
    private readonly int _queueCount;
    private readonly Func<int, int> _workerFor;
    private readonly bool _supportsPacked;
    private readonly VirtioFeatures _deviceFeatures;
    private readonly byte[] _config;
    private readonly Lock _configLock = new();
    private readonly ConcurrentQueue<string> _events = new();
    private readonly List<DescriptorChain>[] _held;
    private readonly int[] _heldCount;
    private readonly int[] _threadIds;
    private readonly long[] _completed;
    private int _resetCount;
    private volatile FakeMode _mode;
    private volatile bool _recordAllocations;
    private long _allocationsAtFirstCall = -1;
    private long _allocationsAtLastCall;
    private int _recordedCalls;

    public FakeDevice(int queueCount = 1, int configSize = 0, Func<int, int>? workerFor = null,
        bool supportsPacked = true, VirtioFeatures deviceFeatures = VirtioFeatures.None)
    {
        _queueCount = queueCount;
        _workerFor = workerFor ?? (_ => 0);
        _supportsPacked = supportsPacked;
        _deviceFeatures = deviceFeatures;
        _config = new byte[configSize];
        for (int i = 0; i < configSize; i++)
        {
            _config[i] = (byte)(0x40 + i);
        }
        _held = new List<DescriptorChain>[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            _held[i] = new List<DescriptorChain>(1024);
        }
        _heldCount = new int[queueCount];
        _threadIds = new int[queueCount];
        _completed = new long[queueCount];
    }

    public override VirtioDeviceType DeviceType => VirtioDeviceType.Rng;

    public override int QueueCount => _queueCount;

    public override VirtioFeatures DeviceFeatures => _deviceFeatures;

    public override int ConfigSize => _config.Length;

    public override bool SupportsPackedRing => _supportsPacked;

    public FakeMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>False: SET_CONFIG is refused (a read-only config space).</summary>
    public bool ConfigWritable { get; set; } = true;

    /// <summary>Every callback so far, oldest first ("started 0", "stopping 1", "reset", …).</summary>
    public IReadOnlyList<string> Events => [.. _events];

    public int ResetCount => Volatile.Read(ref _resetCount);

    public VirtioFeatures NegotiatedFeatures { get; private set; }

    public int HeldCount(int queue) => Volatile.Read(ref _heldCount[queue]);

    /// <summary>Managed thread id of the worker that last ran ProcessQueue for <paramref name="queue"/>.</summary>
    public int ProcessThreadId(int queue) => Volatile.Read(ref _threadIds[queue]);

    /// <summary>Chains completed on <paramref name="queue"/>.</summary>
    public long Completed(int queue) => Interlocked.Read(ref _completed[queue]);

    /// <summary>A copy of the config space.</summary>
    public byte[] ConfigSnapshot()
    {
        lock (_configLock)
        {
            return [.. _config];
        }
    }

    public override int WorkerFor(int queueIndex) => _workerFor(queueIndex);

    public override void ProcessQueue(DeviceQueue queue)
    {
        RecordAllocation();
        Volatile.Write(ref _threadIds[queue.Index], Environment.CurrentManagedThreadId);
        while (queue.TryPop(out var chain))
        {
            if (Mode == FakeMode.Echo)
            {
                Echo(queue, chain);
            }
            else
            {
                _held[queue.Index].Add(chain);
                Interlocked.Increment(ref _heldCount[queue.Index]);
            }
        }
    }

    public override void ReadConfig(int offset, Span<byte> destination)
    {
        lock (_configLock)
        {
            _config.AsSpan(offset, destination.Length).CopyTo(destination);
        }
    }

    public override bool WriteConfig(int offset, ReadOnlySpan<byte> source)
    {
        _events.Enqueue($"config write {offset} {source.Length}");
        if (!ConfigWritable)
        {
            return false;
        }
        lock (_configLock)
        {
            source.CopyTo(_config.AsSpan(offset));
        }
        return true;
    }

    public override void OnFeaturesNegotiated(VirtioFeatures features)
    {
        NegotiatedFeatures = features;
        _events.Enqueue($"features {(ulong)features:x}");
    }

    public override void OnQueueStarted(DeviceQueue queue) => _events.Enqueue($"started {queue.Index}");

    public override bool OnQueueStopping(DeviceQueue queue)
    {
        _events.Enqueue($"stopping {queue.Index}");
        if (Mode == FakeMode.HoldUnderIo)
        {
            return false; // chains under I/O: the framework waits for CompleteHeld
        }
        _held[queue.Index].Clear();
        Volatile.Write(ref _heldCount[queue.Index], 0);
        return true;
    }

    public override void Reset()
    {
        Interlocked.Increment(ref _resetCount);
        _events.Enqueue("reset");
    }

    /// <summary>Changes config bytes as the device would at run time and tells the front end.</summary>
    public bool ChangeConfig(int offset, ReadOnlySpan<byte> data)
    {
        lock (_configLock)
        {
            data.CopyTo(_config.AsSpan(offset));
        }
        return Context.NotifyConfigChanged();
    }

    /// <summary>Echoes and completes every held chain of <paramref name="queue"/> on its worker.</summary>
    public void CompleteHeld(int queue)
    {
        var deviceQueue = Context.Queues[queue];
        deviceQueue.Worker.Invoke(() =>
        {
            foreach (var chain in _held[queue])
            {
                Echo(deviceQueue, chain);
            }
            _held[queue].Clear();
            Volatile.Write(ref _heldCount[queue], 0);
        });
    }

    /// <summary>
    /// From the next ProcessQueue call on, records the worker thread's allocated-bytes counter at
    /// the entry of every call (one queue only, so one thread).
    /// </summary>
    public void StartAllocationWindow()
    {
        Volatile.Write(ref _allocationsAtFirstCall, -1);
        Volatile.Write(ref _recordedCalls, 0);
        _recordAllocations = true;
    }

    /// <summary>Bytes the worker allocated between the first and the last recorded call, and the call count.</summary>
    public (long Bytes, int Calls) StopAllocationWindow()
    {
        _recordAllocations = false;
        return (Volatile.Read(ref _allocationsAtLastCall) - Volatile.Read(ref _allocationsAtFirstCall), Volatile.Read(ref _recordedCalls));
    }

    private void RecordAllocation()
    {
        if (!_recordAllocations)
        {
            return;
        }
        long now = GC.GetAllocatedBytesForCurrentThread();
        if (Volatile.Read(ref _allocationsAtFirstCall) < 0)
        {
            Volatile.Write(ref _allocationsAtFirstCall, now);
        }
        Volatile.Write(ref _allocationsAtLastCall, now);
        Interlocked.Increment(ref _recordedCalls);
    }

    private void Echo(DeviceQueue queue, in DescriptorChain chain)
    {
        var reader = chain.CreateReader();
        var writer = chain.CreateWriter();
        Span<byte> buffer = stackalloc byte[256];
        int n;
        while ((n = reader.Read(buffer)) > 0)
        {
            writer.Write(buffer[..n]);
        }
        queue.Complete(chain, writer.BytesWritten);
        Interlocked.Increment(ref _completed[queue.Index]);
    }
}
