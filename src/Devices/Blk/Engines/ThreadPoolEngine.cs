// ThreadPoolEngine.cs — file I/O on a pool of I/O threads (IoThreadPool). The queue worker
// prepares work items and submits them as a batch; each I/O thread puts its result in this
// engine's completion queue and signals an eventfd the worker watches.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk.Engines;

internal sealed class ThreadPoolEngine : IBlockEngine
{
    private readonly IoThreadPool _pool;
    private readonly BlockFile[] _files;
    private readonly ConcurrentQueue<(int Tag, long Result)> _completions = new();
    private readonly EventFd _signal = EventFd.Create();
    private int _prepared;
    private int _inFlight;

    public ThreadPoolEngine(IoThreadPool pool, BlockFile primary, BlockFile? fallback)
    {
        _pool = pool;
        _files = [primary, fallback ?? primary];
    }

    public SafeHandle? CompletionSignal => _signal.Descriptor;

    public int InFlight => _inFlight;

    public bool HasCompletions => !_completions.IsEmpty;

    public bool TryRead(int tag, int file, IoVectorArray iov, long offset) =>
        Prepare(new IoWorkItem(this, tag, IoOperation.Read, _files[file], iov, offset, 0, 0));

    public bool TryWrite(int tag, int file, IoVectorArray iov, long offset, int flags) =>
        Prepare(new IoWorkItem(this, tag, IoOperation.Write, _files[file], iov, offset, 0, flags));

    public bool TryFlush(int tag) => Prepare(new IoWorkItem(this, tag, IoOperation.Flush, _files[0], null, 0, 0, 0));

    public bool TryAllocate(int tag, int mode, long offset, long length) =>
        Prepare(new IoWorkItem(this, tag, IoOperation.Allocate, _files[0], null, offset, length, mode));

    public void Submit()
    {
        if (_prepared > 0)
        {
            _pool.Wake(_prepared);
            _prepared = 0;
        }
    }

    public bool TryReap(out int tag, out long result)
    {
        if (_completions.TryDequeue(out var done))
        {
            _inFlight--;
            (tag, result) = done;
            return true;
        }
        (tag, result) = (0, 0);
        return false;
    }

    public void ClearCompletionSignal() => _signal.Drain();

    public void WaitForCompletion()
    {
        var spin = new SpinWait();
        while (_completions.IsEmpty && _inFlight > 0)
        {
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }

    /// <summary>Called on an I/O thread with the result of one work item.</summary>
    public void Complete(int tag, long result)
    {
        _completions.Enqueue((tag, result));
        _signal.Signal();
    }

    public void Dispose() => _signal.Dispose();

    private bool Prepare(in IoWorkItem item)
    {
        _pool.Enqueue(item);
        _prepared++;
        _inFlight++;
        return true;
    }
}
