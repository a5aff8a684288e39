// HandleTable.cs — FUSE file handles (fh) → open host files and directories. OPEN/OPENDIR/CREATE
// add, RELEASE/RELEASEDIR remove; a handle's fd is a SafeHandle, so a READ racing a RELEASE of the
// same handle finishes on a still-open fd.
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

    public OpenFile? Get(ulong handle)
    {
        lock (_lock)
        {
            return _open.GetValueOrDefault(handle);
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
