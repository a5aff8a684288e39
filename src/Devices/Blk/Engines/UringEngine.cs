// UringEngine.cs — file I/O through one io_uring per queue, submitted and reaped on the queue's
// worker. Reads of cached data and most writes complete inline during the submit; the rest
// (cache misses, O_DIRECT, fsync) finish in the kernel's workers and signal the ring's eventfd.
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk.Engines;

internal sealed class UringEngine : IBlockEngine
{
    private readonly IoUring _ring;
    private readonly int[] _files = new int[2];

    public UringEngine(BlockFile primary, BlockFile? fallback, int entries)
    {
        _ring = IoUring.Create(entries);
        _files[0] = _ring.AttachFile(primary.Descriptor);
        _files[1] = fallback is null ? _files[0] : _ring.AttachFile(fallback.Descriptor);
    }

    public SafeHandle? CompletionSignal => _ring.CompletionEvent.Descriptor;

    public int InFlight => _ring.InFlight;

    public bool HasCompletions => _ring.HasCompletions;

    public bool TryRead(int tag, int file, IoVectorArray iov, long offset) => _ring.TryPrepareReadV(_files[file], iov, offset, (ulong)tag);

    public bool TryWrite(int tag, int file, IoVectorArray iov, long offset, int flags) =>
        _ring.TryPrepareWriteV(_files[file], iov, offset, flags, (ulong)tag);

    public bool TryFlush(int tag) => _ring.TryPrepareFsync(_files[0], dataOnly: true, (ulong)tag);

    public bool TryAllocate(int tag, int mode, long offset, long length) => mode == BlockFile.DiscardRange
        ? _ring.TryPrepareBlockDiscard(_files[0], offset, length, (ulong)tag)
        : _ring.TryPrepareFallocate(_files[0], mode, offset, length, (ulong)tag);

    public void Submit() => _ring.Submit();

    public bool TryReap(out int tag, out long result)
    {
        if (_ring.TryReap(out var completion))
        {
            tag = (int)completion.UserData;
            result = completion.Result;
            return true;
        }
        tag = 0;
        result = 0;
        return false;
    }

    public void ClearCompletionSignal() => _ring.CompletionEvent.Drain();

    public void WaitForCompletion() => _ring.WaitForCompletions(1);

    public void Dispose() => _ring.Dispose();
}
