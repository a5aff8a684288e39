// LockWaiter.cs — SETLKW without a thread per waiter, and without a wait that outlives its ring.
// A SETLKW is tried at once on its queue's worker; while a conflicting lock is held it joins the
// waiting list, which one thread ("fs-locks", started on first need) retries with F_OFD_SETLK:
// every millisecond at first, then less and less often (up to every 50 ms) while nothing changes.
// The wait ends when an attempt is granted or fails (EBADF after a RELEASE, say), when the guest
// sends INTERRUPT for it (EINTR), or when its queue stops — GET_VRING_BASE, reset, disconnect all
// go through OnQueueStopping (EINTR) — so the ring drains at once instead of waiting out the
// 30 s drain timeout. Answers are written on the queue's worker, and only if the ring is still the
// one the request came on (QueueEpochs). At most MaxWaiting waits at once; more are ENOLCK.
//
// Threading: Start and CancelQueue run on the queue's worker, Interrupt on the hiprio worker, the
// retries on the fs-locks thread; the list is guarded by one lock, and every attempt is made
// under it, so a wait is ended exactly once (a lock granted is never answered EINTR).
using VhostUser.Backend;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs;

internal sealed class LockWaiter : IDisposable
{
    /// <summary>Most SETLKW requests waiting at once (each holds a ring slot of the guest's).</summary>
    public const int MaxWaiting = 1024;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMilliseconds(50);

    private readonly FuseServer _server;
    private readonly QueueEpochs _epochs;
    private readonly Lock _lock = new();
    private readonly List<Wait> _waiting = [];
    private readonly AutoResetEvent _wake = new(false);
    private Thread? _thread;
    private bool _disposed;

    public LockWaiter(FuseServer server, QueueEpochs epochs)
    {
        _server = server;
        _epochs = epochs;
    }

    /// <summary>SETLKW requests waiting now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>On the queue's worker: serves a SETLKW chain, answered now unless it has to wait.</summary>
    public void Start(DeviceQueue queue, in DescriptorChain chain)
    {
        if (!_server.TryParseLockWait(chain, out var request))
        {
            queue.Complete(chain, _server.Handle(chain)); // malformed, or before INIT: the usual answer
            return;
        }
        int errno = _server.TryLock(request);
        if (WouldBlock(errno))
        {
            lock (_lock)
            {
                if (!_disposed && _waiting.Count < MaxWaiting)
                {
                    _waiting.Add(new Wait(queue, chain, request, _epochs[queue.Index]));
                    _thread ??= StartThread();
                    _wake.Set();
                    return;
                }
            }
            errno = Errno.ENOLCK;
        }
        Answer(queue, chain, request, errno);
    }

    /// <summary>On the queue's worker, as it stops: every wait from it ends with EINTR now.</summary>
    public void CancelQueue(DeviceQueue queue)
    {
        List<Wait> cancelled;
        lock (_lock)
        {
            cancelled = _waiting.FindAll(w => w.Queue == queue);
            _waiting.RemoveAll(w => w.Queue == queue);
        }
        foreach (var wait in cancelled)
        {
            Finish(wait, Errno.EINTR);
        }
    }

    /// <summary>FUSE_INTERRUPT (hiprio worker): the waiting SETLKW with this unique ends with EINTR.</summary>
    public void Interrupt(ulong unique)
    {
        Wait? interrupted;
        lock (_lock)
        {
            interrupted = _waiting.Find(w => w.Request.Unique == unique);
            if (interrupted is not null)
            {
                _waiting.Remove(interrupted);
            }
        }
        // Not found: answered already, or not a wait at all (nothing else is held long enough).
        if (interrupted is not null)
        {
            interrupted.Queue.Worker.Post(() => Finish(interrupted, Errno.EINTR));
        }
    }

    /// <summary>Session end (every queue stopped): whatever still waits is dropped unanswered.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _waiting.Clear();
        }
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            _disposed = true;
            _waiting.Clear();
            thread = _thread;
        }
        _wake.Set();
        thread?.Join();
        _wake.Dispose();
    }

    /// <summary>F_OFD_SETLK's "a conflicting lock is held" (fcntl(2): EAGAIN or EACCES).</summary>
    private static bool WouldBlock(int errno) => errno is Errno.EAGAIN or Errno.EACCES;

    private Thread StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "fs-locks" };
        thread.Start();
        return thread;
    }

    private void Run()
    {
        var delay = FirstRetry;
        while (true)
        {
            List<(Wait Wait, int Errno)>? ended = null;
            bool waiting;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }
                // In arrival order, so the oldest waiter gets a freed lock first.
                int kept = 0;
                for (int i = 0; i < _waiting.Count; i++)
                {
                    var wait = _waiting[i];
                    int errno = _server.TryLock(wait.Request);
                    if (WouldBlock(errno))
                    {
                        _waiting[kept++] = wait;
                    }
                    else
                    {
                        (ended ??= []).Add((wait, errno));
                    }
                }
                _waiting.RemoveRange(kept, _waiting.Count - kept);
                waiting = kept > 0;
            }
            foreach (var (wait, errno) in ended ?? [])
            {
                wait.Queue.Worker.Post(() => Finish(wait, errno));
            }
            delay = ended is not null ? FirstRetry : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
            if (waiting ? _wake.WaitOne(delay) : _wake.WaitOne())
            {
                delay = FirstRetry; // a new wait, or stop
            }
        }
    }

    /// <summary>On the wait's queue worker: answers it if its ring still runs.</summary>
    private void Finish(Wait wait, int errno)
    {
        if (wait.Epoch == _epochs[wait.Queue.Index] && wait.Queue.IsStarted)
        {
            Answer(wait.Queue, wait.Chain, wait.Request, errno);
        }
    }

    private static void Answer(DeviceQueue queue, in DescriptorChain chain, in LockRequest request, int errno)
    {
        queue.Complete(chain, FuseServer.ReplyTo(chain, request, errno));
        queue.FlushNotification();
    }

    private sealed record Wait(DeviceQueue Queue, DescriptorChain Chain, LockRequest Request, long Epoch);
}
