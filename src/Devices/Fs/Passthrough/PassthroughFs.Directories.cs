// PassthroughFs.Directories.cs — OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR. Entries
// come from getdents64 on the handle's descriptor and are re-encoded as fuse_dirent records;
// the offset of each record is the host's d_off, so a later READDIR seeks straight back to it.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs.Passthrough;

internal sealed partial class PassthroughFs
{
    /// <summary>fuse_dirent without its name: ino, off, namelen, type.</summary>
    private const int DirentHeader = 24;

    /// <summary>fuse_direntplus without the name: fuse_entry_out + fuse_dirent header.</summary>
    private const int DirentPlusHeader = 128 + DirentHeader;

    [ThreadStatic]
    private static byte[]? t_dents;

    public int OpenDir(in RequestContext context, ulong node, uint flags, out FuseOpenOut open)
    {
        open = default;
        int errno = PathOf(node, out var inode, out var fd);
        if (errno != 0)
        {
            return errno;
        }
        using (fd)
        {
            if (!inode.IsDirectory)
            {
                return Errno.ENOTDIR;
            }
            errno = Reopen(fd.Fd, LibC.O_RDONLY | LibC.O_DIRECTORY, out var dir);
            if (errno != 0)
            {
                return errno;
            }
            uint openFlags = _options.Cache == CachePolicy.Always ? FuseOpenOut.CacheDir : 0;
            open = new FuseOpenOut { Handle = _handles.Add(new OpenFile(dir, inode)), OpenFlags = openFlags };
            return 0;
        }
    }

    public int ReleaseDir(ulong node, ulong handle) => _handles.Remove(handle) ? 0 : Errno.EBADF;

    public int FsyncDir(ulong node, ulong handle, bool dataOnly) => Fsync(node, handle, dataOnly);

    public int ReadDir(ulong node, ulong handle, long offset, bool plus, Span<byte> buffer, out int length)
    {
        length = 0;
        if (!_handles.TryAcquire(handle, out var dir))
        {
            return Errno.EBADF;
        }
        var dents = t_dents ??= new byte[32 * 1024];
        using (dir)
        lock (dir.File.DirectoryLock)
        {
            if (LibC.lseek(dir.Fd, offset, LibC.SEEK_SET) < 0)
            {
                return Errno.Last;
            }
            // Ask for about as many host entries as fit (plus records are ~6x bigger per name).
            int want = Math.Min(dents.Length, plus ? Math.Max(buffer.Length / 4, 512) : buffer.Length);
            nint n = LibC.getdents64(dir.Fd, ref dents[0], (nuint)want);
            if (n < 0)
            {
                return Errno.Last;
            }
            length = Encode(dir.Inode, dents.AsSpan(0, (int)n), plus, buffer);
            return 0;
        }
    }

    /// <summary>Re-encodes linux_dirent64 records as fuse_dirent(plus) records until the buffer is full.</summary>
    private int Encode(Inode parent, ReadOnlySpan<byte> dents, bool plus, Span<byte> buffer)
    {
        int written = 0;
        while (dents.Length >= 19)
        {
            ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(dents);
            long next = BinaryPrimitives.ReadInt64LittleEndian(dents[8..]);
            int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(dents[16..]);
            byte type = dents[18];
            if (recordLength < 20 || recordLength > dents.Length)
            {
                break;
            }
            var nameArea = dents[19..recordLength];
            int nameLength = nameArea.IndexOf((byte)0);
            var name = nameArea[..(nameLength < 0 ? nameArea.Length : nameLength)];
            int header = plus ? DirentPlusHeader : DirentHeader;
            int size = (header + name.Length + 7) & ~7;
            if (written + size > buffer.Length)
            {
                break;
            }
            var record = buffer.Slice(written, size);
            record.Clear();
            var entry = default(FuseEntryOut);
            if (plus && !IsDotOrDotDot(name))
            {
                LookupForReadDir(parent, ino, nameArea[..(name.Length + 1)], out entry);
            }
            if (plus)
            {
                MemoryMarshal.Write(record, in entry);
            }
            var dirent = record[(header - DirentHeader)..];
            BinaryPrimitives.WriteUInt64LittleEndian(dirent, ino);
            BinaryPrimitives.WriteInt64LittleEndian(dirent[8..], next);
            BinaryPrimitives.WriteUInt32LittleEndian(dirent[16..], (uint)name.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(dirent[20..], type);
            name.CopyTo(dirent[DirentHeader..]);
            written += size;
            dents = dents[recordLength..];
        }
        return written;
    }

    private void LookupForReadDir(Inode parent, ulong ino, ReadOnlySpan<byte> nameWithNul, out FuseEntryOut entry)
    {
        entry = default;
        if (PathOf(parent.NodeId, out var parentInode, out var parentFd) != 0)
        {
            return;
        }
        using (parentFd)
        {
            // A name that vanished meanwhile is sent without attributes (node id 0: the guest looks it up itself).
            // The entry's inode number says whether the guest probably knows it already (a second listing):
            // then one statx is the whole lookup; a new name is opened straight away.
            bool probablyKnown = _inodes.IsKnown(new InodeKey(parentInode.Key.Device, ino, parentInode.Key.MountId));
            LookupIn(parentFd.Fd, parentInode, nameWithNul, out entry, probeKnown: probablyKnown);
        }
    }

    private static bool IsDotOrDotDot(ReadOnlySpan<byte> name) => name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
}
