// VsockRegistry.cs — the guests of one daemon by CID, for sibling routing. Filled once at start-up
// (before any worker runs) and only read afterwards, so lookups need no lock.
namespace VhostUser.Devices.Vsock;

/// <summary>All vsock devices of this daemon, by guest CID.</summary>
internal sealed class VsockRegistry
{
    private readonly Dictionary<ulong, VsockDevice> _byCid = [];

    /// <summary>Adds a device (start-up only).</summary>
    public void Add(VsockDevice device) => _byCid.Add(device.GuestCid, device);

    /// <summary>The device with CID <paramref name="cid"/> if it shares a group with <paramref name="from"/>.</summary>
    public VsockDevice? FindSibling(VsockDevice from, ulong cid) =>
        _byCid.TryGetValue(cid, out var device) && device != from && device.SharesGroupWith(from) ? device : null;
}
