// HandleTable.cs — FUSE file handles (fh) → open host files and directories. OPEN/OPENDIR/CREATE
// add, RELEASE/RELEASEDIR remove. A request uses a handle only through a FileLease, a SafeHandle
// reference taken under the table's lock: a RELEASE on another request queue then only defers
// the close, so a READ racing it finishes on the still-open fd (never on a closed one, and never
// on another file that reused the number).
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

/// <summary>An open file or directory.</summary>
/// <param name="Fd">The open descriptor (not O_PATH).</param>
/// <param name="Inode">The inode it was opened from.</param>
internal sealed record OpenFile(FileDescriptor Fd, Inode Inode)
{
    /// <summary>Serialises seek + getdents on a directory handle.</summary>
    public Lock DirectoryLock { get; } = new();
}

/// <summary>The open handles of a session.</summary>
internal sealed class HandleTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, OpenFile> _open = [];
    private ulong _next = 1;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    public ulong Add(OpenFile file)
    {
        lock (_lock)
        {
            ulong handle = _next++;
            _open.Add(handle, file);
            return handle;
        }
    }

    /// <summary>Leases the open file behind <paramref name="handle"/>; false if there is none (EBADF).</summary>
    public bool TryAcquire(ulong handle, out FileLease lease)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(handle, out var file))
            {
                lease = default;
                return false;
            }
            // Cannot fail: Remove and Clear dispose a descriptor only after taking it out under this lock.
            bool added = false;
            file.Fd.DangerousAddRef(ref added);
            lease = new FileLease(file);
            return true;
        }
    }

    public bool Remove(ulong handle)
    {
        OpenFile? file;
        lock (_lock)
        {
            if (!_open.Remove(handle, out file))
            {
                return false;
            }
        }
        file.Fd.Dispose();
        return true;
    }

    public void Clear()
    {
        List<OpenFile> all;
        lock (_lock)
        {
            all = [.. _open.Values];
            _open.Clear();
        }
        foreach (var file in all)
        {
            file.Fd.Dispose();
        }
    }
}

/// <summary>An open file held for one request: its descriptor stays open until the lease is disposed.</summary>
internal readonly struct FileLease(OpenFile file) : IDisposable
{
    public OpenFile File { get; } = file;

    public FileDescriptor Fd => File.Fd;

    public Inode Inode => File.Inode;

    public void Dispose() => File?.Fd.DangerousRelease();
}
