// FileKind.cs — the file type of an open descriptor (fstat st_mode & S_IFMT), for the checks that
// refuse the wrong kind of fd early: a call fd that cannot be signalled, an entropy source that
// is a directory, an inherited --fd that is no socket.
namespace VhostUser.Unix;

/// <summary>The type of file behind a descriptor.</summary>
public enum FileKind
{
    /// <summary>No type bits: an anonymous inode (eventfd, epoll, timerfd, memfd-less objects).</summary>
    Anonymous,
    /// <summary>A pipe or FIFO (S_IFIFO).</summary>
    Fifo,
    /// <summary>A character device (S_IFCHR).</summary>
    CharacterDevice,
    /// <summary>A directory (S_IFDIR).</summary>
    Directory,
    /// <summary>A block device (S_IFBLK).</summary>
    BlockDevice,
    /// <summary>A regular file, memfds included (S_IFREG).</summary>
    Regular,
    /// <summary>A symbolic link (S_IFLNK; only through O_PATH).</summary>
    SymbolicLink,
    /// <summary>A socket (S_IFSOCK).</summary>
    Socket,
}
