// FuseServer.Locks.cs — GETLK, SETLK, SETLKW (POSIX locks; fuse.h fuse_lk_in) and INTERRUPT.
// SETLKW may wait for as long as another lock is held, which must never hold a queue thread nor
// outlive the ring it came on: the device hands it to LockWaiter, which uses the three pieces
// here — TryParseLockWait copies the request out of the chain once, TryLock makes one attempt,
// ReplyTo answers the chain when the lock is granted, fails, or the wait is cancelled (queue
// stopped: EINTR) or interrupted (INTERRUPT from the guest: EINTR).
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs.Fuse;

/// <summary>A SETLKW copied out of its chain: what to retry, and what to answer.</summary>
/// <param name="Unique">fuse_in_header.unique (INTERRUPT names it).</param>
/// <param name="Node">The node the lock is on.</param>
/// <param name="Lock">fuse_lk_in.</param>
internal readonly record struct LockRequest(ulong Unique, ulong Node, FuseLkIn Lock);

internal sealed partial class FuseServer
{
    /// <summary>FUSE_INTERRUPT for the request with this unique (on the hiprio queue; it gets no reply).</summary>
    public Action<ulong>? Interrupted { get; set; }

    /// <summary>True if the chain is a SETLKW (peeks at the header only).</summary>
    public static bool IsLockWait(in DescriptorChain chain)
    {
        var reader = chain.CreateReader();
        return reader.TryRead(out FuseInHeader header) && header.Opcode == FuseOpcode.SetLkW;
    }

    /// <summary>
    /// Copies a SETLKW out of <paramref name="chain"/> (on its queue's worker). False if it is not
    /// a well-formed SETLKW of an initialised session: Handle answers those (EINVAL, EIO).
    /// </summary>
    public bool TryParseLockWait(in DescriptorChain chain, out LockRequest request)
    {
        request = default;
        var reader = chain.CreateReader();
        if (!_initialized || !reader.TryRead(out FuseInHeader header) || header.Opcode != FuseOpcode.SetLkW || !reader.TryRead(out FuseLkIn input))
        {
            return false;
        }
        request = new LockRequest(header.Unique, header.NodeId, input);
        return true;
    }

    /// <summary>One attempt at the lock: 0, an errno, or EAGAIN/EACCES while a conflicting lock is held.</summary>
    public int TryLock(in LockRequest request) => _fs.SetLk(request.Node, request.Lock);

    /// <summary>Answers a SETLKW with <paramref name="errno"/> (0: granted), on its queue's worker; returns the bytes written.</summary>
    public static uint ReplyTo(in DescriptorChain chain, in LockRequest request, int errno)
    {
        var writer = chain.CreateWriter();
        var header = new FuseOutHeader { Length = FuseOutHeader.Size, Error = -errno, Unique = request.Unique };
        return writer.TryWrite(header) ? writer.BytesWritten : 0;
    }

    private uint GetLk(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        if (!r.TryRead(out FuseLkIn input))
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        int errno = _fs.GetLk(q.Node, input, out var result);
        return errno == 0 ? Reply(ref w, q, result) : Error(ref w, q, errno);
    }

    private uint SetLk(ref Request q, ref ChainReader r, ref ChainWriter w) =>
        r.TryRead(out FuseLkIn input) ? Status(ref w, q, _fs.SetLk(q.Node, input)) : Error(ref w, q, Errno.EINVAL);

    private uint Interrupt(ref ChainReader r)
    {
        if (r.TryRead(out FuseInterruptIn input))
        {
            Interrupted?.Invoke(input.Unique);
        }
        return 0; // no reply (fuse.h: the interrupted request answers instead)
    }
}
