// BenchSession.cs — one connection to the back end set up the way QEMU sets a device up
// (vhost-user-protocol.md §15): negotiate, SET_FEATURES with the ring features the run asks for,
// SET_MEM_TABLE with memfd guest RAM, then NUM/BASE/ADDR/CALL/KICK/ENABLE per queue. Close stops
// the rings with GET_VRING_BASE, as QEMU does when the guest stops the device.
using VhostUser.Frontend;
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>A connected, started device.</summary>
internal sealed class BenchSession : IDisposable
{
    private const ulong MaxMemory = 4UL << 30;

    private readonly VhostUserFrontend _frontend;
    private readonly SharedGuestMemory _memory;
    private readonly List<BenchQueue> _queues;

    private BenchSession(VhostUserFrontend frontend, SharedGuestMemory memory, List<BenchQueue> queues)
    {
        _frontend = frontend;
        _memory = memory;
        _queues = queues;
    }

    /// <summary>The started queues.</summary>
    public IReadOnlyList<BenchQueue> Queues => _queues;

    /// <summary>Connects and starts <see cref="BenchOptions.Queues"/> queues.</summary>
    public static BenchSession Open(BenchOptions options, RequestFormat format)
    {
        var frontend = Connect(options.SocketPath);
        SharedGuestMemory? memory = null;
        var queues = new List<BenchQueue>();
        try
        {
            var features = Negotiate(frontend, options, format);
            memory = SharedGuestMemory.Create(MemorySize(options));
            frontend.SetMemTable(memory);
            format.Prepare(frontend);
            for (int i = 0; i < options.Queues; i++)
            {
                var queue = new BenchQueue(i, DriverQueue.Create(memory, options.QueueSize, features), options.Indirect);
                queues.Add(queue);
                frontend.StartQueue(i, queue.Driver, queue.Kick, queue.Call);
            }
            return new BenchSession(frontend, memory, queues);
        }
        catch
        {
            queues.ForEach(q => q.Dispose());
            memory?.Dispose();
            frontend.Dispose();
            throw;
        }
    }

    /// <summary>Stops every ring (GET_VRING_BASE); the connection closes on dispose.</summary>
    public void Close()
    {
        foreach (var queue in _queues)
        {
            _frontend.GetVringBase(queue.Index);
        }
    }

    public void Dispose()
    {
        _frontend.Dispose();
        _queues.ForEach(q => q.Dispose());
        _memory.Dispose();
    }

    private static VhostUserFrontend Connect(string socketPath)
    {
        try
        {
            return VhostUserFrontend.Connect(socketPath, TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            throw new BenchFailedException($"cannot connect to {socketPath}: {e.Message}");
        }
    }

    /// <summary>Negotiates; returns the virtio features acknowledged (without PROTOCOL_FEATURES).</summary>
    private static VirtioFeatures Negotiate(VhostUserFrontend frontend, BenchOptions options, RequestFormat format)
    {
        var offered = frontend.Negotiate();
        var wanted = options.RingFeatures | format.DeviceFeatures;
        var missing = wanted & ~offered.Features;
        if (missing != VirtioFeatures.None)
        {
            throw new BenchFailedException($"the back end does not offer {missing} (it offers 0x{(ulong)offered.Features:x})");
        }
        ulong queueCount = offered.QueueCount ?? 1;
        if ((ulong)options.Queues > queueCount)
        {
            throw new BenchFailedException($"--queues {options.Queues}: the back end has {queueCount} queue(s)"
                + (offered.QueueCount is null ? " (MQ protocol feature not offered)" : ""));
        }
        frontend.SetFeatures(wanted | (offered.Features & VirtioFeatures.ProtocolFeatures));
        return wanted;
    }

    /// <summary>
    /// Guest RAM for the rings and every id's buffers (DriverQueue places a block per id and
    /// reuses it; all ids come round), plus slack for alignment and poison gaps.
    /// </summary>
    private static ulong MemorySize(BenchOptions options)
    {
        ulong perId = (ulong)options.BlockSize + 256;
        ulong perQueue = (ulong)options.QueueSize * (perId + 3 * 16) + (1 << 16);
        ulong total = (ulong)options.Queues * perQueue + (1 << 20);
        if (total > MaxMemory)
        {
            throw new BenchOptionsException($"the run needs {total >> 20} MiB of guest RAM; lower --queue-size, --block-size or --queues");
        }
        return (total + 0xFFFFF) & ~0xFFFFFUL;
    }
}
