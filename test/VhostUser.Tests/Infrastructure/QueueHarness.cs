// QueueHarness.cs — a driver and a device on one ring in one process: the front end's guest RAM
// (memfd regions), the same regions mapped again as the back end maps them, a DriverQueue laid
// out in it and the started device-side Virtqueue. No sockets: ring behaviour only.
using VhostUser.Frontend;
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Tests.Infrastructure;

public sealed class QueueHarness : IDisposable
{
    private QueueHarness(SharedGuestMemory memory, DriverQueue driver)
    {
        Memory = memory;
        Driver = driver;
        Backend = memory.CreateBackendMemory();
        Device = driver.CreateVirtqueue(Backend);
    }

    /// <summary>The front end's RAM.</summary>
    public SharedGuestMemory Memory { get; }

    /// <summary>The back end's view of the same RAM (separate mappings of the same memfds).</summary>
    public GuestMemory Backend { get; }

    public DriverQueue Driver { get; }

    public Virtqueue Device { get; }

    public static QueueHarness Create(bool packed, bool eventIdx = false, bool indirect = false,
        int size = 16, ushort startIndex = 0, ulong memorySize = 1 << 20, VirtioFeatures extra = VirtioFeatures.None)
    {
        var memory = SharedGuestMemory.Create(memorySize);
        try
        {
            var features = RingConfigs.Features(packed, eventIdx, indirect) | extra;
            return new QueueHarness(memory, DriverQueue.Create(memory, size, features, startIndex));
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Offers a chain directly or through an indirect table.</summary>
    public ushort Offer(bool indirect, params DriverBuffer[] buffers) => Driver.Offer(buffers, indirect);

    /// <summary>Pops one chain, failing the test if none is available.</summary>
    public DescriptorChain Pop()
    {
        Assert.True(Device.TryPop(out var chain), "expected an available chain");
        return chain;
    }

    /// <summary>Takes one used element back on the driver side, failing the test if none is there.</summary>
    public UsedElement TakeUsed()
    {
        Assert.True(Driver.TryTakeUsed(out var used), "expected a used element");
        return used;
    }

    public void Dispose() => Memory.Dispose();
}
