// IBlockEngine.cs — how a queue hands file I/O off its worker: prepare operations (tagged with
// the request slot), submit them as a batch, reap completions. One engine per queue, used only on
// that queue's worker. An engine with a completion signal posts completions asynchronously and
// makes that fd readable; the worker watches it. Results are byte counts or 0, or -errno.
using System.Runtime.InteropServices;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk.Engines;

/// <summary>File I/O for one queue.</summary>
internal interface IBlockEngine : IDisposable
{
    /// <summary>Readable when completions may be waiting (null: completions are ready right after Submit).</summary>
    SafeHandle? CompletionSignal { get; }

    /// <summary>Operations prepared or submitted and not reaped yet.</summary>
    int InFlight { get; }

    /// <summary>True if a completion can be reaped now.</summary>
    bool HasCompletions { get; }

    /// <summary>readv into <paramref name="iov"/> from backing <paramref name="file"/> (0 primary, 1 buffered fallback).</summary>
    bool TryRead(int tag, int file, IoVectorArray iov, long offset);

    /// <summary>writev with RWF_* <paramref name="flags"/>.</summary>
    bool TryWrite(int tag, int file, IoVectorArray iov, long offset, int flags);

    /// <summary>fdatasync.</summary>
    bool TryFlush(int tag);

    /// <summary>fallocate.</summary>
    bool TryAllocate(int tag, int mode, long offset, long length);

    /// <summary>Hands the prepared operations over.</summary>
    void Submit();

    /// <summary>Takes one completion.</summary>
    bool TryReap(out int tag, out long result);

    /// <summary>Resets the completion signal (before reaping).</summary>
    void ClearCompletionSignal();

    /// <summary>Blocks until a completion can be reaped (only with operations in flight).</summary>
    void WaitForCompletion();
}
