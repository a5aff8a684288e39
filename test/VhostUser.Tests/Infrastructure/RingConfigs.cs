// RingConfigs.cs — the ring shapes every virtqueue behaviour is checked under: split or packed,
// with and without EVENT_IDX and INDIRECT_DESC. Theory rows are primitives so each row shows
// up as its own test case.
using VhostUser.Virtio;

namespace VhostUser.Tests.Infrastructure;

public static class RingConfigs
{
    /// <summary>All eight combinations of (packed, eventIdx, indirect).</summary>
    public static TheoryData<bool, bool, bool> All
    {
        get
        {
            var data = new TheoryData<bool, bool, bool>();
            foreach (bool packed in new[] { false, true })
            {
                foreach (bool eventIdx in new[] { false, true })
                {
                    foreach (bool indirect in new[] { false, true })
                    {
                        data.Add(packed, eventIdx, indirect);
                    }
                }
            }
            return data;
        }
    }

    /// <summary>Split and packed, with EVENT_IDX off and on.</summary>
    public static TheoryData<bool, bool> PackedAndEventIdx => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    /// <summary>Split and packed.</summary>
    public static TheoryData<bool> Packed => new() { false, true };

    public static VirtioFeatures Features(bool packed, bool eventIdx = false, bool indirect = false)
    {
        var features = VirtioFeatures.Version1;
        if (packed)
        {
            features |= VirtioFeatures.RingPacked;
        }
        if (eventIdx)
        {
            features |= VirtioFeatures.EventIdx;
        }
        if (indirect)
        {
            features |= VirtioFeatures.IndirectDesc;
        }
        return features;
    }
}
