using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Tools.Probe;

/// <summary>What a back end offered (vhost-user-protocol.md §4, §6).</summary>
/// <param name="Features">GET_FEATURES.</param>
/// <param name="ProtocolFeatures">GET_PROTOCOL_FEATURES (none without bit 30).</param>
/// <param name="QueueCount">GET_QUEUE_NUM, when MQ is offered.</param>
/// <param name="MaxMemorySlots">GET_MAX_MEM_SLOTS, when CONFIGURE_MEM_SLOTS is offered.</param>
/// <param name="Config">The config space bytes read with GET_CONFIG, when CONFIG is offered.</param>
internal sealed record ProbeReport(
    VirtioFeatures Features,
    ProtocolFeatures ProtocolFeatures,
    ulong? QueueCount,
    ulong? MaxMemorySlots,
    byte[]? Config);
