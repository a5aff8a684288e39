// Driver.cs — what QEMU and the guest driver do together, for tests: negotiate, acknowledge the
// wanted features, send guest RAM, start rings (DriverRing) and restart them after a stop.
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Infrastructure;

internal sealed class Driver : IDisposable
{
    private readonly Dictionary<int, DriverRing> _rings = [];

    /// <summary>
    /// Negotiates (all protocol features the front end knows, or <paramref name="protocol"/>),
    /// acknowledges the offered subset of <paramref name="wanted"/> plus bit 30, and sends
    /// <paramref name="memorySize"/> bytes of RAM with SET_MEM_TABLE.
    /// </summary>
    public Driver(VhostUserFrontend frontend, VirtioFeatures wanted, ulong memorySize = 4 << 20,
        ProtocolFeatures protocol = VhostUserFrontend.SupportedProtocolFeatures)
    {
        Frontend = frontend;
        Negotiation = frontend.Negotiate(protocol);
        Features = Negotiation.Features & (wanted | VirtioFeatures.ProtocolFeatures);
        frontend.SetFeatures(Features);
        Memory = SharedGuestMemory.Create(memorySize);
        frontend.SetMemTable(Memory);
    }

    public VhostUserFrontend Frontend { get; }

    public NegotiationResult Negotiation { get; }

    /// <summary>What SET_FEATURES acknowledged (bit 30 included).</summary>
    public VirtioFeatures Features { get; }

    public SharedGuestMemory Memory { get; }

    public DriverRing this[int index] => _rings[index];

    /// <summary>The usual feature sets: split or packed, with or without EVENT_IDX.</summary>
    public static VirtioFeatures RingFeatures(bool packed, bool eventIdx) =>
        VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc
        | (packed ? VirtioFeatures.RingPacked : 0) | (eventIdx ? VirtioFeatures.EventIdx : 0);

    /// <summary>Lays out ring <paramref name="index"/> (split rings at <paramref name="startIndex"/>) and starts it as QEMU does.</summary>
    public DriverRing Start(int index, int size = 8, ushort startIndex = 0)
    {
        var queue = DriverQueue.Create(Memory, size, Features & ~VirtioFeatures.ProtocolFeatures, startIndex);
        var ring = new DriverRing(Frontend, index, queue);
        Frontend.StartQueue(index, queue, ring.Kick, ring.Call);
        _rings[index] = ring;
        return ring;
    }

    public void Dispose()
    {
        foreach (var ring in _rings.Values)
        {
            ring.Dispose();
        }
        Memory.Dispose();
    }
}
