// InflightQueue.Split.cs — inflight tracking for a split ring (rst "Inflight I/O tracking",
// QueueRegionSplit). Entries are indexed by head descriptor. A pop sets the entry's counter and
// then its inflight flag; a completion links the head into the last-batch list, the used ring is
// published, the flag is cleared, and used_idx copies used->idx last. A completion batch is one
// chain here (Virtqueue publishes used->idx per chain), which the recovery handles like any batch.
namespace VhostUser.Virtio;

public sealed partial class InflightQueue
{
    /// <summary>
    /// Reads the region when a split ring of <paramref name="size"/> starts with used->idx
    /// <paramref name="ringUsedIndex"/>. A fresh (or mismatched) region is initialised. A valid
    /// one is repaired (a batch published but not yet cleared is cleared) and its in-flight heads
    /// are written to <paramref name="resubmit"/> in fetch order.
    /// </summary>
    public InflightRecovery RecoverSplit(int size, ushort ringUsedIndex, Span<ushort> resubmit, out int count)
    {
        CheckSize(size);
        count = 0;
        var header = Span(0, InflightLayout.SplitHeaderSize);
        ushort version = ReadU16(header, InflightLayout.VersionOffset);
        if (version == 0 || ReadU16(header, InflightLayout.DescNumOffset) != size)
        {
            InitializeSplit(size, ringUsedIndex);
            return version == 0 ? InflightRecovery.Fresh : InflightRecovery.Reinitialized;
        }
        ushort regionUsed = ReadU16(header, InflightLayout.SplitUsedIndexOffset);
        if (regionUsed != ringUsedIndex)
        {
            // The last batch reached the used ring but its flags were not cleared: clear them.
            int batch = (ushort)(ringUsedIndex - regionUsed);
            int entry = ReadU16(header, InflightLayout.SplitLastBatchHeadOffset);
            for (int i = 0; i < batch && i < size && entry < size; i++)
            {
                var e = SplitEntry(entry);
                WriteU8(e, InflightLayout.SplitInflightOffset, 0);
                entry = ReadU16(e, InflightLayout.SplitNextOffset);
            }
            WriteU16(header, InflightLayout.SplitUsedIndexOffset, ringUsedIndex);
        }
        EnsureSortKeys(size);
        ulong max = 0;
        for (int i = 0; i < size; i++)
        {
            var e = SplitEntry(i);
            if (ReadU8(e, InflightLayout.SplitInflightOffset) != 0)
            {
                ulong counter = ReadU64(e, InflightLayout.SplitCounterOffset);
                _sortKeys[count] = counter;
                resubmit[count++] = (ushort)i;
                max = Math.Max(max, counter);
            }
        }
        SortByCounter(resubmit, count);
        _counter = max + 1;
        return InflightRecovery.Recovered;
    }

    /// <summary>A head was popped (not for resubmitted chains, which keep their counter).</summary>
    public void SplitPopped(ushort head)
    {
        var e = SplitEntry(head);
        WriteU64(e, InflightLayout.SplitCounterOffset, _counter++);
        WriteU8(e, InflightLayout.SplitInflightOffset, 1);
    }

    /// <summary>Before used->idx moves past <paramref name="head"/>: it becomes the last batch.</summary>
    public void SplitBeforeUsed(ushort head)
    {
        var header = Span(0, InflightLayout.SplitHeaderSize);
        WriteU16(SplitEntry(head), InflightLayout.SplitNextOffset, ReadU16(header, InflightLayout.SplitLastBatchHeadOffset));
        WriteU16(header, InflightLayout.SplitLastBatchHeadOffset, head);
    }

    /// <summary>After used->idx was published as <paramref name="usedIndex"/>.</summary>
    public void SplitAfterUsed(ushort head, ushort usedIndex)
    {
        WriteU8(SplitEntry(head), InflightLayout.SplitInflightOffset, 0);
        WriteU16(Span(0, InflightLayout.SplitHeaderSize), InflightLayout.SplitUsedIndexOffset, usedIndex);
    }

    /// <summary>Every in-flight chain was given back to the driver (rewind): nothing is in flight.</summary>
    public void SplitForgetAll(int size, ushort usedIndex) => InitializeSplit(size, usedIndex);

    private void InitializeSplit(int size, ushort usedIndex)
    {
        var header = Span(0, InflightLayout.SplitHeaderSize);
        WriteU16(header, InflightLayout.VersionOffset, 0);
        Span(InflightLayout.SplitHeaderSize, InflightLayout.SplitEntrySize * size).Clear();
        WriteU64(header, InflightLayout.FeaturesOffset, 0);
        WriteU16(header, InflightLayout.DescNumOffset, (ushort)size);
        WriteU16(header, InflightLayout.SplitLastBatchHeadOffset, 0);
        WriteU16(header, InflightLayout.SplitUsedIndexOffset, usedIndex);
        WriteU16(header, InflightLayout.VersionOffset, InflightLayout.Version); // last: the region counts from here
        _counter = 1;
    }

    private Span<byte> SplitEntry(int index) => Span(InflightLayout.SplitEntryOffset(index), InflightLayout.SplitEntrySize);
}
