using VhostUser.Virtio;

namespace VhostUser.Frontend;

/// <summary>
/// A packed-ring event suppression structure (spec 2.8.10, virtqueues.md §6): flags
/// ENABLE / DISABLE / DESC (<see cref="PackedRing.EventFlagsEnable"/> …) and, for DESC, the
/// descriptor ring offset (bits 0–14) with its wrap counter (bit 15).
/// </summary>
/// <param name="OffWrap">off_wrap.</param>
/// <param name="Flags">flags.</param>
public readonly record struct EventSuppression(ushort OffWrap, ushort Flags);
