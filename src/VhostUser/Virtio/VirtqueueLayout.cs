using VhostUser.Memory;

namespace VhostUser.Virtio;

/// <summary>
/// Where a ring lives: its size and the guest-physical addresses of its three areas
/// (split: descriptor table, available ring, used ring; packed: descriptor ring, driver event
/// suppression, device event suppression).
/// </summary>
public readonly record struct VirtqueueLayout(int Size, GuestAddress Descriptors, GuestAddress DriverArea, GuestAddress DeviceArea);
