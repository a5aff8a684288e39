// InodeStore.cs — node id → Inode and (dev, ino) → Inode, under one lock. Lookups from every
// queue and FORGETs from the hiprio queue meet here. An inode leaves when its lookup count drops
// to zero; its fd is closed once the last request holding a lease on it (PassthroughFs.PathOf)
// is done.
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

    /// <summary>Adds a lookup of an inode already known by <paramref name="key"/>; false if it is not known.</summary>
    public bool TryAddLookup(InodeKey key, out Inode inode)
    {
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out inode!))
            {
                inode.LookupCount++;
                return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Adds a lookup of the inode with <paramref name="key"/>: the known inode gets +1, or
    /// <paramref name="create"/> makes a new one with the id it is given. Returns the inode and
    /// whether it is new (if not, the caller disposes what it opened for it).
    /// </summary>
    public Inode AddLookup(InodeKey key, Func<ulong, Inode> create, out bool created)
    {
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var known))
            {
                known.LookupCount++;
                created = false;
                return known;
            }
            var inode = create(_nextNodeId++);
            inode.LookupCount = 1;
            _byNode.Add(inode.NodeId, inode);
            _byKey.Add(key, inode);
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
                _byKey.Remove(inode.Key);
                gone = inode;
            }
        }
        if (gone is not null)
        {
            gone.Fd?.Dispose();
            Interlocked.Exchange(ref gone.CachedFd, null)?.Dispose();
        }
    }

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
