// Inode.cs — one host inode the guest knows (by node id) and how to reach it: an O_PATH fd, or a
// file handle (name_to_handle_at) that is opened on demand, so a big tree costs no fd per inode
// (--inode-file-handles). The lookup count follows the kernel's (LOOKUP +1, FORGET -n).
using VhostUser.Unix;

namespace VhostUser.Devices.Fs.Passthrough;

/// <summary>A host inode known to the guest.</summary>
internal sealed class Inode
{
    public Inode(ulong nodeId, ulong generation, InodeKey key, uint type, FileDescriptor? fd, FileHandle? handle)
    {
        NodeId = nodeId;
        Generation = generation;
        Key = key;
        Type = type;
        Fd = fd;
        Handle = handle;
    }

    /// <summary>FUSE node id (1 is the shared directory).</summary>
    public ulong NodeId { get; }

    /// <summary>
    /// fuse_entry_out.generation: how many stale inodes with the same key came before (a new file
    /// that got the inode number of a deleted one the guest still knows). Node ids are never reused,
    /// so (node id, generation) is unique over the daemon's life either way.
    /// </summary>
    public ulong Generation { get; }

    /// <summary>Host identity (device, inode number, mount); the file handle tells a reused inode number apart.</summary>
    public InodeKey Key { get; }

    /// <summary>File type bits (S_IFMT of st_mode).</summary>
    public uint Type { get; }

    /// <summary>O_PATH descriptor, when the inode is kept by fd.</summary>
    public FileDescriptor? Fd { get; }

    /// <summary>File handle, when the inode is kept by handle.</summary>
    public FileHandle? Handle { get; }

    /// <summary>
    /// For an inode kept by handle: the descriptor last opened from the handle, kept while the
    /// inode is among the most recently used (HandleFdCache), so busy inodes cost one
    /// open_by_handle_at, not one per request.
    /// </summary>
    public FileDescriptor? CachedFd;

    /// <summary>Kernel lookups not yet forgotten; guarded by the store's lock.</summary>
    public ulong LookupCount { get; set; }

    public bool IsDirectory => Type == Interop.LibC.S_IFDIR;

    public bool IsRegular => Type == Interop.LibC.S_IFREG;
}

/// <summary>What makes a host inode unique: device, inode number, and the mount it was found on.</summary>
internal readonly record struct InodeKey(ulong Device, ulong Ino, ulong MountId);

/// <summary>A file handle from name_to_handle_at, with the mount descriptor to open it through.</summary>
/// <param name="Bytes">struct file_handle as the kernel filled it (handle_bytes, handle_type, f_handle).</param>
/// <param name="MountFd">Any descriptor on the same mount (open_by_handle_at's mount_fd).</param>
internal sealed record FileHandle(byte[] Bytes, FileDescriptor MountFd);
