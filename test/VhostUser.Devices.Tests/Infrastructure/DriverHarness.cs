// DriverHarness.cs — guest RAM, negotiated features and started driver queues for one device,
// the way QEMU sets them up, plus waiting on a call eventfd with a deadline.
using VhostUser.Frontend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Infrastructure;

internal sealed class DriverHarness : IDisposable
{
    private readonly VhostUserFrontend _frontend;
    private readonly List<(DriverQueue Queue, EventFd Kick, EventFd Call)> _queues = [];

    public DriverHarness(VhostUserFrontend frontend, VirtioFeatures wanted, ulong memorySize = 4 << 20)
    {
        _frontend = frontend;
        var result = frontend.Negotiate();
        Features = result.Features & (wanted | VirtioFeatures.ProtocolFeatures);
        frontend.SetFeatures(Features);
        Memory = SharedGuestMemory.Create(memorySize);
        frontend.SetMemTable(Memory);
    }

    public VirtioFeatures Features { get; }

    public SharedGuestMemory Memory { get; }

    public DriverQueue StartQueue(int index, int size)
    {
        var queue = DriverQueue.Create(Memory, size, Features & ~VirtioFeatures.ProtocolFeatures);
        var kick = EventFd.Create();
        var call = EventFd.Create();
        _frontend.StartQueue(index, queue, kick, call);
        _queues.Add((queue, kick, call));
        return queue;
    }

    public void Kick(int index) => _queues[index].Kick.Signal();

    /// <summary>Waits for a used element on queue <paramref name="index"/>, up to <paramref name="timeout"/>.</summary>
    public UsedElement WaitUsed(int index, TimeSpan timeout)
    {
        var (queue, _, call) = _queues[index];
        using var epoll = Epoll.Create();
        epoll.Add(call.Descriptor, EpollEvents.In, 1);
        var deadline = DateTime.UtcNow + timeout;
        Span<EpollEvent> events = stackalloc EpollEvent[1];
        while (true)
        {
            if (queue.TryTakeUsed(out var used))
            {
                return used;
            }
            // As a driver does before sleeping: ask for an interrupt (used_event / ENABLE), then re-check.
            queue.EnableInterrupts();
            if (queue.TryTakeUsed(out used))
            {
                return used;
            }
            int left = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
            if (left <= 0)
            {
                throw new TimeoutException($"no used buffer on queue {index} within {timeout}");
            }
            if (epoll.Wait(events, left) > 0)
            {
                call.Drain();
            }
        }
    }

    public void Dispose()
    {
        foreach (var (_, kick, call) in _queues)
        {
            kick.Dispose();
            call.Dispose();
        }
        Memory.Dispose();
    }
}
