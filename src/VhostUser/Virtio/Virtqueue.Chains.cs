// Virtqueue.Chains.cs — storage for popped chains. Each chain's buffers are copied out of the
// ring when it is popped (packed slots are overwritten by used descriptors, and a guest may
// rewrite a split table at any time) into an array owned by the queue and indexed by the chain's
// id, which is unique while the chain is in flight. After warm-up nothing is allocated here.
using VhostUser.Memory;

namespace VhostUser.Virtio;

public sealed partial class Virtqueue
{
    /// <summary>Most buffers one chain may have (Linux vhost's UIO_MAXIOV; QEMU's VIRTQUEUE_MAX_SIZE).</summary>
    public const int MaxChainSegments = 1024;

    private ChainSegment[][] _store = [];
    private int[] _segmentCounts = [];
    private uint[] _generations = [];
    private bool[] _inFlight = [];
    private ushort[] _ringSlots = [];
    private ulong[] _popSequence = [];
    private ulong _popCounter;
    private int _inFlightCount;
    private ChainSegment[] _scratch = [];

    // The chain being built by the current pop.
    private ChainSegment[] _building = [];
    private int _buildCount;
    private ulong _buildReadable;
    private ulong _buildWritable;

    /// <summary>Number of popped chains not yet completed.</summary>
    public int InFlightCount => _inFlightCount;

    /// <summary>
    /// True if <paramref name="chain"/> was popped since the ring last started. A chain from an
    /// earlier start (its completion came after a drain timed out, or after the connection left it
    /// to the inflight area) belongs to a ring that no longer exists: completing it into the new
    /// one would hit an empty chain table, or worse, the same id popped anew.
    /// </summary>
    public bool IsCurrent(in DescriptorChain chain) => chain.Queue == this && _started && chain.Incarnation == _incarnation;

    /// <summary>
    /// Forgets an in-flight chain without returning it to the driver: its ring is broken and is
    /// not written any more, but the chain must stop counting as in flight (GET_VRING_BASE waits
    /// for that count).
    /// </summary>
    public void Discard(in DescriptorChain chain)
    {
        EnsureStarted();
        ReleaseChain(chain);
    }

    /// <summary>The buffers of an in-flight chain (none for a chain of an earlier ring start).</summary>
    internal ReadOnlySpan<ChainSegment> GetSegments(ushort id, uint generation, uint incarnation)
    {
        if (incarnation != _incarnation)
        {
            return [];
        }
        if (id >= _inFlight.Length || !_inFlight[id] || _generations[id] != generation)
        {
            throw new VirtqueueException(VirtqueueError.ChainNotInFlight,
                $"queue {Index}: chain {id} is not in flight (completed twice, or used after a reset)");
        }
        return _store[id].AsSpan(0, _segmentCounts[id]);
    }

    /// <summary>
    /// Gives back every in-flight chain so the driver offers it again after the ring restarts
    /// (GET_VRING_BASE while a device holds buffers for later). Only possible when the in-flight
    /// chains are the most recently popped ones; returns how many were given back, or -1.
    /// </summary>
    public int RewindInFlight()
    {
        int count = _inFlightCount;
        if (count == 0)
        {
            return 0;
        }
        if (_resubmitNext < _resubmitCount)
        {
            return -1; // recovered chains not handed out yet are in flight too
        }
        int slots = 0;
        for (int id = 0; id < _inFlight.Length; id++)
        {
            if (_inFlight[id])
            {
                if (_popSequence[id] == 0 || _popSequence[id] + (ulong)count <= _popCounter)
                {
                    return -1; // a later chain was completed already, or a resubmitted one: not a tail of pops
                }
                slots += _ringSlots[id];
            }
        }
        if (_packed)
        {
            int position = _nextAvail - slots;
            if (position < 0)
            {
                position += Size;
                _availWrap = !_availWrap;
            }
            _nextAvail = (ushort)position;
        }
        else
        {
            _nextAvail = (ushort)(_nextAvail - count);
        }
        _popCounter -= (ulong)count;
        ResetChains();
        ForgetInflight();
        return count;
    }

    private void EnsureChainStorage(int size)
    {
        if (_store.Length == size)
        {
            return;
        }
        _store = new ChainSegment[size][];
        for (int i = 0; i < size; i++)
        {
            _store[i] = new ChainSegment[4];
        }
        _segmentCounts = new int[size];
        _generations = new uint[size];
        _inFlight = new bool[size];
        _ringSlots = new ushort[size];
        _popSequence = new ulong[size];
        _scratch = new ChainSegment[4];
        _inFlightCount = 0;
    }

    private void ResetChains()
    {
        Array.Clear(_inFlight);
        _inFlightCount = 0;
    }

    /// <summary>Starts building a split chain directly in its head's storage.</summary>
    private void BeginChain(ushort head)
    {
        if (_inFlight[head])
        {
            throw new VirtqueueException(VirtqueueError.DuplicateBufferId,
                $"queue {Index}: head {head} made available again while still in flight");
        }
        _building = _store[head];
        ResetBuild();
    }

    /// <summary>Starts building a packed chain whose id is known only at its last descriptor.</summary>
    private void BeginScratchChain()
    {
        _building = _scratch;
        ResetBuild();
    }

    /// <summary>Moves the scratch chain into the storage of <paramref name="id"/>.</summary>
    private void ClaimScratchChain(ushort id)
    {
        if (id >= Size)
        {
            throw new VirtqueueException(VirtqueueError.InvalidBufferId,
                $"queue {Index}: buffer id {id} is outside the {Size}-entry ring");
        }
        if (_inFlight[id])
        {
            throw new VirtqueueException(VirtqueueError.DuplicateBufferId,
                $"queue {Index}: buffer id {id} made available again while still in flight");
        }
        _scratch = _store[id];
    }

    private void ResetBuild()
    {
        _buildCount = 0;
        _buildReadable = 0;
        _buildWritable = 0;
    }

    /// <summary>Checks one buffer (virtqueues.md §5) and appends it to the chain being built.</summary>
    private void AppendSegment(ushort head, ulong address, uint length, bool writable)
    {
        if (length == 0)
        {
            return; // not forbidden by the spec; nothing to transfer
        }
        if (!writable && _buildWritable != 0 && RequireReadableFirst)
        {
            throw new VirtqueueException(VirtqueueError.ReadableAfterWritable,
                $"queue {Index}: device-readable buffer after a device-writable one (chain {head})");
        }
        if (_buildReadable + _buildWritable + length > uint.MaxValue)
        {
            throw new VirtqueueException(VirtqueueError.ChainTooLarge,
                $"queue {Index}: chain {head} is longer than 2^32 - 1 bytes");
        }
        if (!_memory.IsRangeMapped(new GuestAddress(address), length))
        {
            throw new VirtqueueException(VirtqueueError.DescriptorNotMapped,
                $"queue {Index}: buffer [0x{address:x}, +0x{length:x}) of chain {head} is not in guest memory");
        }
        if (_buildCount == _building.Length)
        {
            if (_buildCount >= MaxChainSegments)
            {
                throw new VirtqueueException(VirtqueueError.ChainTooLong,
                    $"queue {Index}: chain {head} has more than {MaxChainSegments} buffers");
            }
            Array.Resize(ref _building, Math.Min(_building.Length * 2, MaxChainSegments));
        }
        _building[_buildCount++] = new ChainSegment(address, length, writable);
        if (writable)
        {
            _buildWritable += length;
        }
        else
        {
            _buildReadable += length;
        }
    }

    private DescriptorChain CommitChain(ushort id, ushort ringSlots)
    {
        _store[id] = _building;
        _segmentCounts[id] = _buildCount;
        _inFlight[id] = true;
        uint generation = ++_generations[id];
        _ringSlots[id] = ringSlots;
        _popSequence[id] = ++_popCounter;
        _inFlightCount++;
        return new DescriptorChain(this, id, generation, _incarnation, (uint)_buildReadable, (uint)_buildWritable, ringSlots);
    }

    private void ReleaseChain(in DescriptorChain chain)
    {
        ushort id = chain.Id;
        if (chain.Queue != this || chain.Incarnation != _incarnation || id >= _inFlight.Length || !_inFlight[id] || _generations[id] != chain.Generation)
        {
            throw new VirtqueueException(VirtqueueError.ChainNotInFlight,
                $"queue {Index}: chain {id} is not in flight (completed twice, or after a reset)");
        }
        _inFlight[id] = false;
        _inFlightCount--;
    }
}
