// Virtqueue.Inflight.cs — the Virtqueue side of inflight I/O tracking (INFLIGHT_SHMFD;
// vhost-user-protocol.md §11): a ring started with an InflightQueue records every pop and
// completion there (hooks in Virtqueue.Split.cs / Virtqueue.Packed.cs), and on start reads it
// back. Chains a previous back-end process popped and never completed are then handed out again
// by TryPop, in the order they were first fetched, before any new chain; the avail position
// is derived from the used position and the chains in flight, because after a back-end crash the
// front end's SET_VRING_BASE is stale (QEMU resets it to used->idx for split rings and keeps the
// last known value for packed ones).
namespace VhostUser.Virtio;

public sealed partial class Virtqueue
{
    private InflightQueue? _inflight;
    private ushort[] _resubmit = [];
    private int _resubmitCount;
    private int _resubmitNext;

    /// <summary>The inflight region the ring records into (null: no tracking).</summary>
    public InflightQueue? Inflight => _inflight;

    /// <summary>What the last <see cref="Start"/> found in the inflight region (null without one).</summary>
    public InflightRecovery? LastRecovery { get; private set; }

    /// <summary>Chains recovered from the inflight region that TryPop has not handed out yet.</summary>
    public int ResubmitPending => _resubmitCount - _resubmitNext;

    /// <summary>Chains recovered from the inflight region by the last start.</summary>
    public int ResubmitCount => _resubmitCount;

    /// <summary>
    /// Tracks in-flight chains in <paramref name="inflight"/> from the next <see cref="Start"/>
    /// until <see cref="Stop"/> (null: no tracking). Call before Start.
    /// </summary>
    public void AttachInflight(InflightQueue? inflight)
    {
        if (_started)
        {
            throw new InvalidOperationException($"queue {Index}: attach the inflight region before the ring starts");
        }
        _inflight = inflight;
    }

    /// <summary>Reads the inflight region at start (Start calls it after reading the used position).</summary>
    private void RecoverInflight()
    {
        _resubmitCount = 0;
        _resubmitNext = 0;
        LastRecovery = null;
        if (_inflight is null)
        {
            return;
        }
        if (_resubmit.Length < Size)
        {
            _resubmit = new ushort[Size];
        }
        if (_packed)
        {
            RecoverPacked(_inflight);
        }
        else
        {
            ushort used = _nextUsed;
            LastRecovery = _inflight.RecoverSplit(Size, used, _resubmit, out _resubmitCount);
            if (LastRecovery == InflightRecovery.Recovered)
            {
                _nextAvail = (ushort)(used + _resubmitCount);
            }
        }
    }

    private void RecoverPacked(InflightQueue inflight)
    {
        ushort usedSlot = _nextUsed;
        bool usedWrap = _usedWrap;
        LastRecovery = inflight.RecoverPacked(Size, _descriptors.Span, ref usedSlot, ref usedWrap, _resubmit, out _resubmitCount, out int slots);
        if (LastRecovery != InflightRecovery.Recovered)
        {
            return;
        }
        _nextUsed = usedSlot;
        _usedWrap = usedWrap;
        int position = usedSlot + slots;
        bool wrap = usedWrap;
        if (position >= Size)
        {
            position -= Size;
            wrap = !wrap;
        }
        _nextAvail = (ushort)position;
        _availWrap = wrap;
    }

    /// <summary>Hands out the next recovered chain, rebuilt from the ring (split) or the region (packed).</summary>
    private DescriptorChain PopResubmitted()
    {
        ushort item = _resubmit[_resubmitNext++];
        if (!_packed)
        {
            BeginChain(item);
            WalkSplit(item);
            return MarkResubmitted(CommitChain(item, ringSlots: 1));
        }
        var inflight = _inflight!;
        int count = inflight.PackedChainLength(item);
        BeginScratchChain();
        int entry = item;
        ushort id = 0;
        for (int i = 0; i < count; i++)
        {
            var d = inflight.PackedStored(entry, out int next);
            if ((d.Flags & DescriptorFlags.Indirect) != 0)
            {
                WalkPackedIndirect(d, i < count - 1);
            }
            else
            {
                AppendSegment(d.Id, d.Address, d.Length, (d.Flags & DescriptorFlags.Write) != 0);
            }
            id = d.Id;
            entry = next;
        }
        ClaimScratchChain(id);
        inflight.PackedResubmitted(id, item);
        return MarkResubmitted(CommitChain(id, (ushort)count));
    }

    /// <summary>A resubmitted chain sits at no particular avail position: RewindInFlight must not rewind over it.</summary>
    private DescriptorChain MarkResubmitted(DescriptorChain chain)
    {
        _popSequence[chain.Id] = 0;
        return chain;
    }

    /// <summary>After every in-flight chain was given back: nothing is in flight any more.</summary>
    private void ForgetInflight()
    {
        if (_packed)
        {
            _inflight?.PackedForgetAll(Size, _nextUsed, _usedWrap);
        }
        else
        {
            _inflight?.SplitForgetAll(Size, _nextUsed);
        }
        _resubmitCount = 0;
        _resubmitNext = 0;
    }
}
