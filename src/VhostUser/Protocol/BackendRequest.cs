// BackendRequest.cs — request codes the back end sends on the back-end request channel
// (vhost-user rst "Back-end message types"; vhost-user-protocol.md §5).
namespace VhostUser.Protocol;

/// <summary>Back-end → front-end request codes.</summary>
public enum BackendRequest : uint
{
    /// <summary>No request (invalid).</summary>
    None = 0,
    /// <summary>IOTLB miss or access failure.</summary>
    IotlbMsg = 1,
    /// <summary>The device config space changed.</summary>
    ConfigChangeMsg = 2,
    /// <summary>Host notifier area for a ring.</summary>
    VringHostNotifierMsg = 3,
    /// <summary>In-band call.</summary>
    VringCall = 4,
    /// <summary>In-band error.</summary>
    VringErr = 5,
    /// <summary>Shared object add.</summary>
    SharedObjectAdd = 6,
    /// <summary>Shared object remove.</summary>
    SharedObjectRemove = 7,
    /// <summary>Shared object lookup.</summary>
    SharedObjectLookup = 8,
    /// <summary>Map into a shared memory region.</summary>
    ShmemMap = 9,
    /// <summary>Unmap from a shared memory region.</summary>
    ShmemUnmap = 10,
}
