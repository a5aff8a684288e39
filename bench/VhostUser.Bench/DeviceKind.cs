namespace VhostUser.Bench;

/// <summary>The request format the bench sends (--device).</summary>
internal enum DeviceKind
{
    /// <summary>virtio-rng: one device-writable buffer per request.</summary>
    Rng,

    /// <summary>virtio-blk: header, data, status (devices.md §3.3).</summary>
    Blk,
}
