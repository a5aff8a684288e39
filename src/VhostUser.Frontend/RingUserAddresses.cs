namespace VhostUser.Frontend;

/// <summary>
/// The front end's virtual addresses of a ring's three areas, as SET_VRING_ADDR sends them
/// (descriptor, used and available user addresses; vhost-user-protocol.md "Vring address
/// description"). Split: descriptor table, available ring, used ring. Packed: descriptor ring,
/// driver event suppression, device event suppression.
/// </summary>
/// <param name="Descriptors">desc_user_addr.</param>
/// <param name="DriverArea">avail_user_addr.</param>
/// <param name="DeviceArea">used_user_addr.</param>
public readonly record struct RingUserAddresses(ulong Descriptors, ulong DriverArea, ulong DeviceArea);
