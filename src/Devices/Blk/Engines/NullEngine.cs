// NullEngine.cs — a disk with no backing (--null SIZE, the counterpart of QEMU's null-co with
// read-zeroes=on): reads fill the guest buffers with zeroes, writes, flushes and discards succeed
// at once. Completions are ready right after Submit.
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk.Engines;

internal sealed class NullEngine(int entries) : IBlockEngine
{
    private readonly Queue<(int Tag, long Result)> _done = new(entries);

    public SafeHandle? CompletionSignal => null;

    public int InFlight => _done.Count;

    public bool HasCompletions => _done.Count > 0;

    public bool TryRead(int tag, int file, IoVectorArray iov, long offset)
    {
        iov.Fill(0);
        _done.Enqueue((tag, (long)iov.TotalLength));
        return true;
    }

    public bool TryWrite(int tag, int file, IoVectorArray iov, long offset, int flags)
    {
        _done.Enqueue((tag, (long)iov.TotalLength));
        return true;
    }

    public bool TryFlush(int tag)
    {
        _done.Enqueue((tag, 0));
        return true;
    }

    public bool TryAllocate(int tag, int mode, long offset, long length)
    {
        _done.Enqueue((tag, 0));
        return true;
    }

    public void Submit()
    {
    }

    public bool TryReap(out int tag, out long result)
    {
        if (_done.TryDequeue(out var done))
        {
            (tag, result) = done;
            return true;
        }
        (tag, result) = (0, 0);
        return false;
    }

    public void ClearCompletionSignal()
    {
    }

    public void WaitForCompletion()
    {
    }

    public void Dispose()
    {
    }
}
