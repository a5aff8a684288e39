// FuseServer.Dirs.cs — READDIR, READDIRPLUS and the extended attribute requests SETXATTR,
// GETXATTR, LISTXATTR, REMOVEXATTR.
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs.Fuse;

internal sealed partial class FuseServer
{
    private uint ReadDir(ref Request q, ref ChainReader r, ref ChainWriter w, bool plus)
    {
        if (!r.TryRead(out FuseReadIn input) || input.Offset > long.MaxValue)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        var buffer = Scratch.AsSpan(0, (int)Math.Min(Math.Min(input.Size, 64 * 1024), w.Remaining > FuseOutHeader.Size ? w.Remaining - FuseOutHeader.Size : 0));
        int errno = _fs.ReadDir(q.Node, input.Handle, (long)input.Offset, plus, buffer, out int length);
        return errno == 0 ? ReplyWith(ref w, q, buffer[..length]) : Error(ref w, q, errno);
    }

    private uint SetXattr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        // With FUSE_SETXATTR_EXT the arguments are 16 bytes, else the 8-byte compat form.
        bool extended = (Negotiated & FuseInitFlags.SetXattrExt) != 0;
        var input = default(FuseSetXattrIn);
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new Span<FuseSetXattrIn>(ref input));
        uint consumed = extended ? 16u : 8u;
        if (!r.TryReadExactly(bytes[..(int)consumed]) || !TryReadRest(ref q, ref r, consumed, out var rest)
            || !FuseName.TrySplit(rest, out var name, out rest) || rest.Length < input.Size)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        return Status(ref w, q, _fs.SetXattr(q.Context, q.Node, name, rest[..(int)input.Size], input.Flags, extended ? input.SetXattrFlags : 0));
    }

    private uint GetXattr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseGetXattrIn input) || !TryReadRest(ref q, ref r, 8, out var rest) || !FuseName.TrySplit(rest, out var name, out _))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        // The name lives at the start of scratch; the value goes into the second half.
        var value = Scratch.AsSpan(Scratch.Length / 2, (int)Math.Min(input.Size, (uint)Scratch.Length / 2));
        int errno = _fs.GetXattr(q.Node, name, value, out int length);
        if (errno != 0)
        {
            return Error(ref w, q, errno);
        }
        return input.Size == 0 ? Reply(ref w, q, new FuseGetXattrOut { Size = (uint)length }) : ReplyWith(ref w, q, value[..length]);
    }

    private uint ListXattr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseGetXattrIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        var list = Scratch.AsSpan(0, (int)Math.Min(input.Size, (uint)Scratch.Length));
        int errno = _fs.ListXattr(q.Node, list, out int length);
        if (errno != 0)
        {
            return Error(ref w, q, errno);
        }
        return input.Size == 0 ? Reply(ref w, q, new FuseGetXattrOut { Size = (uint)length }) : ReplyWith(ref w, q, list[..length]);
    }

    private uint RemoveXattr(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!TryReadRest(ref q, ref r, 0, out var rest) || !FuseName.TrySplit(rest, out var name, out _))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        return Status(ref w, q, _fs.RemoveXattr(q.Node, name));
    }
}
