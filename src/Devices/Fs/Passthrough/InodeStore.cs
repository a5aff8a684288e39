// InodeStore.cs — node id → Inode and (dev, ino, mount) → the current Inode, under one lock.
// Lookups from every queue and FORGETs from the hiprio queue meet here. An inode leaves when its
// lookup count drops to zero; its fd is closed once the last request holding a lease on it
// (PassthroughFs.PathOf) is done.
//
// An inode kept as a file handle does not keep the host's inode alive: once the host file is
// deleted and freed, a new file may get its inode number. Look-ups by key therefore pass the
// file handle of what they found (its "identity"): a known inode with another handle is stale,
// and a new inode (next generation) takes its key while the guest still holds the old node.
namespace VhostUser.Devices.Fs.Passthrough;

/// <summary>The inodes the guest currently knows.</summary>
internal sealed class InodeStore
{
    /// <summary>FUSE_ROOT_ID.</summary>
    public const ulong RootId = 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Inode> _byNode = [];
    private readonly Dictionary<InodeKey, Inode> _byKey = [];
    private ulong _nextNodeId = RootId + 1;

    /// <summary>Inodes held (root included): the fd-exhaustion tests read it.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byNode.Count;
            }
        }
    }

    public Inode? Get(ulong nodeId)
    {
        lock (_lock)
        {
            return _byNode.GetValueOrDefault(nodeId);
        }
    }

    /// <summary>Installs the root inode (never forgotten).</summary>
    public void SetRoot(Inode root)
    {
        lock (_lock)
        {
            root.LookupCount = ulong.MaxValue / 2;
            _byNode[RootId] = root;
            _byKey[root.Key] = root;
        }
    }

    /// <summary>True if an inode with <paramref name="key"/> is known (a hint: it may be forgotten the next moment).</summary>
    public bool IsKnown(InodeKey key)
    {
        lock (_lock)
        {
            return _byKey.ContainsKey(key);
        }
    }

    /// <summary>The current inode with <paramref name="key"/>, if any (a hint: no lookup is counted).</summary>
    public Inode? Find(InodeKey key)
    {
        lock (_lock)
        {
            return _byKey.GetValueOrDefault(key);
        }
    }

    /// <summary>
    /// Adds a lookup of the inode known by <paramref name="key"/> if it is the file
    /// <paramref name="identity"/> (its file handle) names; false if none is known or the known one
    /// is stale. An empty identity is not checked (inodes kept by fd hold their host inode open,
    /// so its number cannot have been given to another file).
    /// </summary>
    public bool TryAddLookup(InodeKey key, ReadOnlySpan<byte> identity, out Inode inode)
    {
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out inode!) && IsSameFile(inode, identity))
            {
                inode.LookupCount++;
                return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Adds a lookup of the inode with <paramref name="key"/> and <paramref name="identity"/>: the
    /// known inode gets +1, or <paramref name="create"/> makes a new one with the node id and
    /// generation it is given (the generation after a stale inode's, which keeps its node id until
    /// the guest forgets it). Returns the inode and whether it is new (if not, the caller disposes
    /// what it opened for it).
    /// </summary>
    public Inode AddLookup(InodeKey key, ReadOnlySpan<byte> identity, Func<ulong, ulong, Inode> create, out bool created)
    {
        lock (_lock)
        {
            ulong generation = 0;
            if (_byKey.TryGetValue(key, out var known))
            {
                if (IsSameFile(known, identity))
                {
                    known.LookupCount++;
                    created = false;
                    return known;
                }
                generation = known.Generation + 1;
            }
            var inode = create(_nextNodeId++, generation);
            inode.LookupCount = 1;
            _byNode.Add(inode.NodeId, inode);
            _byKey[key] = inode;
            created = true;
            return inode;
        }
    }

    /// <summary>FORGET: drops <paramref name="count"/> lookups; the inode goes at zero.</summary>
    public void Forget(ulong nodeId, ulong count)
    {
        Inode? gone = null;
        lock (_lock)
        {
            if (nodeId == RootId || !_byNode.TryGetValue(nodeId, out var inode))
            {
                return;
            }
            inode.LookupCount -= Math.Min(count, inode.LookupCount);
            if (inode.LookupCount == 0)
            {
                _byNode.Remove(nodeId);
                if (_byKey.GetValueOrDefault(inode.Key) == inode)
                {
                    _byKey.Remove(inode.Key); // a stale inode no longer holds its key
                }
                gone = inode;
            }
        }
        if (gone is not null)
        {
            gone.Fd?.Dispose();
            Interlocked.Exchange(ref gone.CachedFd, null)?.Dispose();
        }
    }

    private static bool IsSameFile(Inode known, ReadOnlySpan<byte> identity) =>
        identity.IsEmpty || known.Handle is null || known.Handle.Bytes.AsSpan().SequenceEqual(identity);

    /// <summary>Drops every inode but the root (session end).</summary>
    public void Clear()
    {
        List<Inode> gone;
        lock (_lock)
        {
            gone = _byNode.Values.Where(i => i.NodeId != RootId).ToList();
            var root = _byNode.GetValueOrDefault(RootId);
            _byNode.Clear();
            _byKey.Clear();
            if (root is not null)
            {
                _byNode[RootId] = root;
                _byKey[root.Key] = root;
            }
        }
        foreach (var inode in gone)
        {
            inode.Fd?.Dispose();
            Interlocked.Exchange(ref inode.CachedFd, null)?.Dispose();
        }
    }
}
