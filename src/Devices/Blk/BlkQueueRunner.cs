// BlkQueueRunner.cs — one request queue on its worker: pop a batch, parse each request, hand the
// I/O to the engine, submit the batch once, and finish requests as completions come back (inline
// after the submit, or later through the engine's completion fd watched on the same worker). A
// request that needs a second try (an O_DIRECT transfer the kernel refuses as unaligned, a
// fallocate mode the file system lacks) is resubmitted from here. With --poll-us the worker
// keeps looking at the ring and the completions for that long after a batch before it sleeps.
//
// Threading: everything runs on the queue's worker (ProcessQueue, the completion watch, Abandon
// through QueueWorker.Invoke). Request slots are preallocated: the data path allocates nothing.
using System.Diagnostics;
using VhostUser.Backend;
using VhostUser.Devices.Blk.Engines;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk;

internal sealed class BlkQueueRunner : IDisposable
{
    /// <summary>Requests started between two submits (and two notification checks) in a batch.</summary>
    private const int SubBatch = 8;

    private readonly BlkDevice _device;
    private readonly IBlockEngine _engine;
    private readonly BlkRequest[] _requests;
    private readonly int[] _free;
    private readonly long _pollTicks;
    private int _freeCount;
    private DeviceQueue? _queue;
    private long _served;
    private long _durabilitySyncs;
    private long _blockDiscards;

    public BlkQueueRunner(BlkDevice device, IBlockEngine engine, int slots, int pollMicroseconds)
    {
        _device = device;
        _engine = engine;
        _requests = new BlkRequest[slots];
        _free = new int[slots];
        for (int i = 0; i < slots; i++)
        {
            _requests[i] = new BlkRequest(i);
            _free[i] = slots - 1 - i;
        }
        _freeCount = slots;
        _pollTicks = pollMicroseconds * Stopwatch.Frequency / 1_000_000;
    }

    /// <summary>The engine's completion fd (watched on this queue's worker), if it has one.</summary>
    public System.Runtime.InteropServices.SafeHandle? CompletionSignal => _engine.CompletionSignal;

    /// <summary>Requests finished since the last reset.</summary>
    public long Served => Volatile.Read(ref _served);

    /// <summary>DISCARDs that went to the block device as discards.</summary>
    public long BlockDiscards => Volatile.Read(ref _blockDiscards);

    /// <summary>fdatasyncs issued after a write-zeroes done with fallocate (write-through mode).</summary>
    public long DurabilitySyncs => Volatile.Read(ref _durabilitySyncs);

    /// <summary>ProcessQueue: the batch, then polling (every queue of this worker) if enabled.</summary>
    public void Process(DeviceQueue queue)
    {
        _queue = queue;
        bool popped = PopBatch(queue);
        Flush();
        if (_pollTicks > 0 && popped)
        {
            _device.Poll(_device.WorkerFor(queue.Index), _pollTicks);
        }
    }

    /// <summary>
    /// One polling pass: new requests on the ring and completions from the engine. Returns true
    /// if there was anything. The ring's notifications stay as they are (off for the queue whose
    /// batch started the polling, so its driver does not kick while the worker is awake anyway).
    /// </summary>
    public bool PollOnce()
    {
        var queue = _queue;
        if (queue is null || !queue.IsReady)
        {
            return false;
        }
        bool active = PopBatch(queue);
        _engine.Submit();
        active |= _engine.InFlight > 0 && DrainCompletions();
        if (active)
        {
            queue.FlushNotification();
        }
        return active;
    }

    /// <summary>The completion fd became readable.</summary>
    public void OnCompletionSignal()
    {
        _engine.ClearCompletionSignal();
        Flush();
    }

    /// <summary>
    /// Device reset or lost connection: waits for the I/O still running (the kernel may be
    /// writing into guest memory) and drops its results; the ring is stopped already.
    /// </summary>
    public long Abandon()
    {
        _engine.Submit();
        while (_engine.InFlight > 0)
        {
            if (!_engine.TryReap(out int tag, out _))
            {
                _engine.WaitForCompletion();
                continue;
            }
            Release(_requests[tag]);
        }
        for (int i = 0; i < _requests.Length; i++)
        {
            _requests[i].Vectors.Clear();
        }
        _freeCount = 0;
        for (int i = _requests.Length - 1; i >= 0; i--)
        {
            _free[_freeCount++] = i;
        }
        return Interlocked.Exchange(ref _served, 0);
    }

    public void Dispose()
    {
        _engine.Dispose();
        foreach (var request in _requests)
        {
            request.Dispose();
        }
    }

    /// <summary>
    /// Pops and starts what the driver made available. The first request is submitted and, if it
    /// completes at once, returned to the driver on its own, then every <see cref="SubBatch"/>:
    /// the driver (on another CPU) refills the ring while this worker goes on, instead of both
    /// sides taking turns over whole batches.
    /// </summary>
    private bool PopBatch(DeviceQueue queue)
    {
        int popped = 0;
        while (_freeCount > 0 && queue.TryPop(out var chain))
        {
            var request = _requests[_free[--_freeCount]];
            request.Chain = chain;
            Start(request);
            if (++popped % SubBatch == 1 || SubBatch == 1)
            {
                Flush();
                queue.FlushNotification();
            }
        }
        return popped > 0;
    }

    /// <summary>
    /// Submits what is prepared and finishes every completion there is, until none is left.
    /// Completions that happened during the submit have signalled the completion fd too: it is
    /// reset before they are reaped, so the worker does not wake up once more for nothing (any
    /// completion posted after the reset signals it again).
    /// </summary>
    private void Flush()
    {
        do
        {
            _engine.Submit();
            if (_engine.HasCompletions)
            {
                _engine.ClearCompletionSignal();
            }
        }
        while (ReapAll());
    }

    /// <summary>Reaps completions; true if a retry was prepared (submit again).</summary>
    private bool ReapAll()
    {
        bool retried = false;
        while (_engine.TryReap(out int tag, out long result))
        {
            retried |= Completed(_requests[tag], result);
        }
        return retried;
    }

    private bool DrainCompletions()
    {
        bool any = false;
        while (_engine.TryReap(out int tag, out long result))
        {
            any = true;
            if (Completed(_requests[tag], result))
            {
                _engine.Submit();
            }
        }
        return any;
    }

    private void Start(BlkRequest request)
    {
        int status = request.Parse(_device.Config, _device.Options.ReadOnly, _device.Serial);
        if (status == BlkRequest.Malformed)
        {
            Log.MalformedRequest(_device.Logger, _queue!.Index, request.Chain.Id);
            _queue.Complete(request.Chain, 0);
            Release(request);
        }
        else if (status >= 0)
        {
            Finish(request, (byte)status);
        }
        else if (!Submit(request))
        {
            Finish(request, BlkStatus.IoError);
        }
    }

    /// <summary>Prepares the request's next operation, submitting the queued ones first if the engine is full.</summary>
    private bool Submit(BlkRequest request)
    {
        if (TryPrepare(request))
        {
            return true;
        }
        _engine.Submit();
        return TryPrepare(request);
    }

    private bool TryPrepare(BlkRequest request)
    {
        int tag = request.Tag;
        if (request.Syncing)
        {
            return _engine.TryFlush(tag);
        }
        return request.Operation switch
        {
            BlkOperation.Read => _engine.TryRead(tag, request.File, request.Vectors, request.Offset),
            BlkOperation.Write => _engine.TryWrite(tag, request.File, request.Vectors, request.Offset, WriteFlags()),
            BlkOperation.Flush => _engine.TryFlush(tag),
            _ when request.AllocateMode == BlkCompletion.WritingZeroes => _engine.TryWrite(tag, 0, request.Vectors, request.Offset, WriteFlags()),
            _ => _engine.TryAllocate(tag, request.AllocateMode, request.Offset, request.Length),
        };
    }

    /// <summary>Write-through when the driver asked for it or never negotiated FLUSH (spec 5.2.6.1).</summary>
    private int WriteFlags() => _device.WriteThrough ? BlockFile.WriteDataSync : 0;

    /// <summary>One operation finished; returns true if a follow-up operation was prepared instead of finishing.</summary>
    private bool Completed(BlkRequest request, long result)
    {
        byte status;
        bool retry = false;
        if (request.Syncing)
        {
            status = result == 0 ? BlkStatus.Ok : BlkStatus.IoError;
        }
        else
        {
            if (result == 0 && request.AllocateMode == BlockFile.DiscardRange)
            {
                Interlocked.Increment(ref _blockDiscards);
            }
            status = BlkCompletion.Decide(request, result, _device.ZeroBuffer, _device.HasBufferedFallback, out retry);
            // fallocate has no RWF_DSYNC: in write-through mode a zeroed range is made durable
            // before the status, like every write (spec 5.2.6.1). Zero buffers carry RWF_DSYNC.
            if (status == BlkStatus.Ok && !retry && request.Operation == BlkOperation.WriteZeroes
                && request.AllocateMode != BlkCompletion.WritingZeroes && _device.WriteThrough)
            {
                request.Syncing = true;
                retry = true;
                Interlocked.Increment(ref _durabilitySyncs);
            }
        }
        if (retry)
        {
            if (Submit(request))
            {
                return true;
            }
            status = BlkStatus.IoError;
        }
        if (status == BlkStatus.IoError)
        {
            Log.IoFailed(_device.Logger, _queue!.Index, request.Operation, request.Offset, request.Length, result);
        }
        Finish(request, status);
        return false;
    }

    private void Finish(BlkRequest request, byte status)
    {
        var queue = _queue!;
        queue.Complete(request.Chain, request.WriteStatus(status));
        Interlocked.Increment(ref _served);
        Release(request);
    }

    private void Release(BlkRequest request)
    {
        request.Vectors.Clear();
        request.AllocateMode = 0;
        request.ZeroesLeft = 0;
        request.Syncing = false;
        request.Chain = default;
        _free[_freeCount++] = request.Tag;
    }
}
