using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend;

/// <summary>What a back end offered during <see cref="VhostUserFrontend.Negotiate"/>.</summary>
/// <param name="Features">GET_FEATURES.</param>
/// <param name="ProtocolFeatures">GET_PROTOCOL_FEATURES (none if bit 30 was not offered).</param>
/// <param name="AckedProtocolFeatures">What SET_PROTOCOL_FEATURES acknowledged.</param>
/// <param name="QueueCount">GET_QUEUE_NUM, if MQ was negotiated.</param>
/// <param name="MaxMemorySlots">GET_MAX_MEM_SLOTS, if CONFIGURE_MEM_SLOTS was negotiated.</param>
public sealed record NegotiationResult(
    VirtioFeatures Features,
    ProtocolFeatures ProtocolFeatures,
    ProtocolFeatures AckedProtocolFeatures,
    ulong? QueueCount,
    ulong? MaxMemorySlots);
