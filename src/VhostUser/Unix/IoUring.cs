// IoUring.cs — an io_uring instance through raw system calls: one submission and one completion
// ring shared with the kernel, an eventfd the kernel signals on every completion (so a queue
// worker can wait for completions in its epoll set), and the few operations a block back end
// needs (readv, writev, fsync, fallocate, nop).
//
// Ownership: the instance owns its ring fd, the ring mappings and the completion eventfd. Files
// are attached once (a lease is held on each until Dispose), so submissions use their numbers
// without a lease per operation. Buffers: an operation's IoVectorArray must stay untouched until
// its completion is reaped; the array itself keeps the guest mappings it points into alive.
// Dispose only after every submitted operation completed (WaitForCompletions), or the kernel
// could still write through addresses that are gone.
//
// Threading: single issuer. All calls happen on one thread at a time (the queue worker).
// Memory ordering follows the io_uring ABI: the kernel reads the SQ tail with acquire, so the
// entries are written before the tail is published with a release store; the CQ tail is read with
// acquire before the entries, and the CQ head is published with a release store after them.
using System.Runtime.InteropServices;
using VhostUser.Unix.Interop;

namespace VhostUser.Unix;

/// <summary>One completed io_uring operation.</summary>
/// <param name="UserData">The value given when it was prepared.</param>
/// <param name="Result">Bytes transferred or 0 on success; a negative errno on failure.</param>
public readonly record struct IoCompletion(ulong UserData, int Result);

/// <summary>An io_uring instance used from one thread.</summary>
public sealed unsafe class IoUring : IDisposable
{
    private readonly FileDescriptor _ring;
    private readonly EventFd _completionEvent;
    private readonly List<SafeHandle> _files = [];
    private readonly nint _sqRing;
    private readonly nuint _sqRingSize;
    private readonly nint _cqRingMapping;
    private readonly nuint _cqRingSize;
    private readonly nint _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly LibC.io_uring_cqe* _cqes;
    private readonly int[] _fileNumbers = new int[8];
    private uint _sqLocalTail;
    private int _unsubmitted;
    private int _inFlight;
    private bool _disposed;

    private IoUring(FileDescriptor ring, in LibC.io_uring_params p, nint sqRing, nuint sqRingSize, nint cqRing, bool cqShared, nuint cqRingSize, nint sqes, nuint sqesSize, EventFd completionEvent)
    {
        _ring = ring;
        _sqRing = sqRing;
        _sqRingSize = sqRingSize;
        _cqRingMapping = cqShared ? 0 : cqRing;
        _cqRingSize = cqRingSize;
        _sqes = sqes;
        _sqesSize = sqesSize;
        _completionEvent = completionEvent;
        // SAFETY: the offsets come from the kernel for these very mappings (io_uring_setup(2)).
        _sqHead = (uint*)(sqRing + (nint)p.sq_off.head);
        _sqTail = (uint*)(sqRing + (nint)p.sq_off.tail);
        _sqMask = *(uint*)(sqRing + (nint)p.sq_off.ring_mask);
        _cqHead = (uint*)(cqRing + (nint)p.cq_off.head);
        _cqTail = (uint*)(cqRing + (nint)p.cq_off.tail);
        _cqMask = *(uint*)(cqRing + (nint)p.cq_off.ring_mask);
        _cqes = (LibC.io_uring_cqe*)(cqRing + (nint)p.cq_off.cqes);
        SubmissionEntries = (int)p.sq_entries;
        _sqLocalTail = *_sqTail;
        // The submission array maps ring slots to entries; keep it the identity so that the entry
        // for slot (tail & mask) is simply entry (tail & mask).
        uint* array = (uint*)(sqRing + (nint)p.sq_off.array);
        for (uint i = 0; i < p.sq_entries; i++)
        {
            array[i] = i;
        }
    }

    /// <summary>Number of submission entries (a power of two at least the size asked for).</summary>
    public int SubmissionEntries { get; }

    /// <summary>Operations submitted (or prepared) and not yet reaped.</summary>
    public int InFlight => _inFlight;

    /// <summary>
    /// Signalled by the kernel whenever a completion is posted (watch it for EPOLLIN), inline
    /// ones included. (IORING_REGISTER_EVENTFD_ASYNC would skip inline completions, but it also
    /// skips those posted by task work on the submitting thread — O_DIRECT and other block-layer
    /// completions — which would then never wake the worker.)
    /// </summary>
    public EventFd CompletionEvent => _completionEvent;

    /// <summary>Creates a ring with at least <paramref name="entries"/> submission entries.</summary>
    public static IoUring Create(int entries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entries, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(entries, 32768);
        var p = default(LibC.io_uring_params);
        long fd = LibC.syscall(LibC.SYS_io_uring_setup, entries, (long)&p, 0, 0, 0, 0);
        if (fd < 0)
        {
            ThrowHelper.ThrowIOError("io_uring_setup");
        }
        var ring = new FileDescriptor((int)fd);
        nint sqRing = 0, cqRing = 0, sqes = 0;
        nuint sqSize = 0, cqSize = 0, sqesSize = 0;
        EventFd? completion = null;
        try
        {
            sqSize = p.sq_off.array + p.sq_entries * sizeof(uint);
            cqSize = p.cq_off.cqes + p.cq_entries * (uint)sizeof(LibC.io_uring_cqe);
            bool single = (p.features & LibC.IORING_FEAT_SINGLE_MMAP) != 0;
            if (single)
            {
                sqSize = cqSize = Math.Max(sqSize, cqSize);
            }
            sqRing = MapRing(ring, sqSize, LibC.IORING_OFF_SQ_RING);
            cqRing = single ? sqRing : MapRing(ring, cqSize, LibC.IORING_OFF_CQ_RING);
            sqesSize = p.sq_entries * (nuint)sizeof(LibC.io_uring_sqe);
            sqes = MapRing(ring, sqesSize, LibC.IORING_OFF_SQES);
            completion = EventFd.Create();
            RegisterEventFd(ring, completion);
            return new IoUring(ring, p, sqRing, sqSize, cqRing, single, cqSize, sqes, sqesSize, completion);
        }
        catch
        {
            Unmap(sqRing, sqSize);
            if (cqRing != sqRing)
            {
                Unmap(cqRing, cqSize);
            }
            Unmap(sqes, sqesSize);
            completion?.Dispose();
            ring.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Attaches a file for use in operations; returns its number for the Prepare methods. The
    /// ring holds a lease on it until disposed, so the descriptor cannot be closed and reused
    /// while operations may still name it.
    /// </summary>
    public int AttachFile(SafeHandle file)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_files.Count == _fileNumbers.Length)
        {
            throw new InvalidOperationException($"at most {_fileNumbers.Length} files can be attached");
        }
        bool added = false;
        file.DangerousAddRef(ref added);
        _fileNumbers[_files.Count] = (int)file.DangerousGetHandle();
        _files.Add(file);
        return _files.Count - 1;
    }

    /// <summary>Queues a readv into <paramref name="iov"/>; false if the submission ring is full.</summary>
    public bool TryPrepareReadV(int file, IoVectorArray iov, long offset, ulong userData) =>
        TryPrepare(LibC.IORING_OP_READV, _fileNumbers[file], (ulong)iov.Address, (uint)iov.Count, (ulong)offset, 0, userData);

    /// <summary>Queues a writev from <paramref name="iov"/> with RWF_* <paramref name="flags"/>.</summary>
    public bool TryPrepareWriteV(int file, IoVectorArray iov, long offset, int flags, ulong userData) =>
        TryPrepare(LibC.IORING_OP_WRITEV, _fileNumbers[file], (ulong)iov.Address, (uint)iov.Count, (ulong)offset, (uint)flags, userData);

    /// <summary>Queues an fsync (fdatasync when <paramref name="dataOnly"/>).</summary>
    public bool TryPrepareFsync(int file, bool dataOnly, ulong userData) =>
        TryPrepare(LibC.IORING_OP_FSYNC, _fileNumbers[file], 0, 0, 0, dataOnly ? LibC.IORING_FSYNC_DATASYNC : 0, userData);

    /// <summary>Queues an fallocate(<paramref name="mode"/>, <paramref name="offset"/>, <paramref name="length"/>).</summary>
    public bool TryPrepareFallocate(int file, int mode, long offset, long length, ulong userData) =>
        TryPrepare(LibC.IORING_OP_FALLOCATE, _fileNumbers[file], (ulong)length, (uint)mode, (ulong)offset, 0, userData);

    /// <summary>
    /// Queues a block-device discard of [<paramref name="offset"/>, +<paramref name="length"/>)
    /// (IORING_OP_URING_CMD with BLOCK_URING_CMD_DISCARD: cmd_op in the low word of off, start in
    /// addr, length in addr3). Kernels before 6.12 and devices without discard answer -EOPNOTSUPP.
    /// </summary>
    public bool TryPrepareBlockDiscard(int file, long offset, long length, ulong userData) =>
        TryPrepare(LibC.IORING_OP_URING_CMD, _fileNumbers[file], (ulong)offset, 0, LibC.BLOCK_URING_CMD_DISCARD, 0, userData, (ulong)length);

    /// <summary>Queues an operation that does nothing (tests).</summary>
    public bool TryPrepareNop(ulong userData) => TryPrepare(LibC.IORING_OP_NOP, -1, 0, 0, 0, 0, userData);

    /// <summary>Hands every prepared operation to the kernel. Returns how many were submitted.</summary>
    public int Submit() => Enter(0, 0);

    /// <summary>Submits what is prepared and blocks until at least <paramref name="count"/> completions are ready.</summary>
    public void WaitForCompletions(int count) => Enter((uint)Math.Min(count, _inFlight), LibC.IORING_ENTER_GETEVENTS);

    /// <summary>True if a completion is waiting to be reaped.</summary>
    public bool HasCompletions
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return *_cqHead != Volatile.Read(ref *_cqTail);
        }
    }

    /// <summary>Takes the next completion, if any.</summary>
    public bool TryReap(out IoCompletion completion)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        uint head = *_cqHead; // only this thread writes the head
        // Acquire: the entry is read only after the kernel's tail store that published it.
        if (head == Volatile.Read(ref *_cqTail))
        {
            completion = default;
            return false;
        }
        var cqe = _cqes[head & _cqMask];
        // Release: the entry is copied out before the kernel may reuse its slot.
        Volatile.Write(ref *_cqHead, head + 1);
        _inFlight--;
        completion = new IoCompletion(cqe.user_data, cqe.res);
        return true;
    }

    /// <summary>Unmaps the rings and closes the ring; call only with nothing in flight.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Unmap(_sqes, _sqesSize);
        Unmap(_cqRingMapping, _cqRingSize);
        Unmap(_sqRing, _sqRingSize);
        _ring.Dispose();
        _completionEvent.Dispose();
        foreach (var file in _files)
        {
            file.DangerousRelease();
        }
        _files.Clear();
    }

    private bool TryPrepare(byte opcode, int fd, ulong addr, uint len, ulong off, uint opFlags, ulong userData, ulong addr3 = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Acquire: a slot is reused only after the kernel's head store says it consumed it.
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= (uint)SubmissionEntries)
        {
            return false;
        }
        // SAFETY: the slot index is masked into the SQE array the kernel mapped for us.
        var sqe = (LibC.io_uring_sqe*)_sqes + (_sqLocalTail & _sqMask);
        *sqe = new LibC.io_uring_sqe
        {
            opcode = opcode,
            fd = fd,
            addr = addr,
            len = len,
            off = off,
            op_flags = opFlags,
            user_data = userData,
            addr3 = addr3,
        };
        _sqLocalTail++;
        // Release: the entry is complete before the kernel can see the new tail.
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        _unsubmitted++;
        _inFlight++;
        return true;
    }

    private int Enter(uint minComplete, uint flags)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_unsubmitted == 0 && flags == 0)
        {
            return 0;
        }
        using var lease = new FdLease(_ring);
        while (true)
        {
            long n = LibC.syscall(LibC.SYS_io_uring_enter, lease.Fd, _unsubmitted, minComplete, flags, 0, 0);
            if (n >= 0)
            {
                _unsubmitted -= (int)n;
                return (int)n;
            }
            int errno = LibC.LastErrno;
            if (errno is LibC.EINTR or LibC.EAGAIN or LibC.EBUSY)
            {
                // EAGAIN/EBUSY: the kernel is short of resources or the completion ring is full;
                // the caller reaps and submits again after the next completion.
                if (errno != LibC.EINTR)
                {
                    return 0;
                }
                continue;
            }
            ThrowHelper.ThrowIOError("io_uring_enter", errno);
        }
    }

    private static nint MapRing(FileDescriptor ring, nuint size, long offset)
    {
        using var lease = new FdLease(ring);
        nint address = LibC.mmap(0, size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_POPULATE, lease.Fd, offset);
        if (address == LibC.MAP_FAILED)
        {
            ThrowHelper.ThrowIOError("mmap(io_uring)");
        }
        return address;
    }

    private static void Unmap(nint address, nuint size)
    {
        if (address != 0)
        {
            LibC.munmap(address, size);
        }
    }

    private static void RegisterEventFd(FileDescriptor ring, EventFd eventFd)
    {
        using var ringLease = new FdLease(ring);
        using var eventLease = new FdLease(eventFd.Descriptor);
        int value = eventLease.Fd;
        long rc = LibC.syscall(LibC.SYS_io_uring_register, ringLease.Fd, LibC.IORING_REGISTER_EVENTFD, (long)&value, 1, 0, 0);
        if (rc < 0)
        {
            ThrowHelper.ThrowIOError("io_uring_register(EVENTFD)");
        }
    }
}
