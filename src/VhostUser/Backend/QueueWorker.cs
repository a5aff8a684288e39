// QueueWorker.cs — one data-plane thread: it waits on epoll over the kick eventfds of its queues,
// its own wake eventfd, and any fds a device registered, and runs everything that touches those
// queues (design README 1.5; the hand-off shape of SocketAsyncEngine). Other threads hand work
// over with Post (fire and forget) or Invoke (wait for it).
//
// Failure policy: guest faults are handled where they arise (DeviceQueue marks the queue broken).
// Any other exception escaping a callback is a bug: it is logged and rethrown, which ends the
// process loudly rather than leaving a dead queue behind.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Backend;

/// <summary>An epoll thread serving a group of queues and device fds.</summary>
public sealed class QueueWorker : IDisposable
{
    private const ulong WakeToken = 0;
    private const ulong WatchTokenBase = 1UL << 32;

    private readonly Epoll _epoll = Epoll.Create();
    private readonly EventFd _wake = EventFd.Create();
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly Dictionary<ulong, WatchRegistration> _watches = [];
    private readonly List<DeviceQueue> _queues = [];
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private ulong _nextWatchToken = WatchTokenBase;
    private volatile bool _stopping;

    internal QueueWorker(int id, ILogger logger)
    {
        Id = id;
        _logger = logger;
        _epoll.Add(_wake.Descriptor, EpollEvents.In, WakeToken);
        _thread = new Thread(Run) { IsBackground = true, Name = $"vhost-worker-{id}" };
        _thread.Start();
    }

    /// <summary>Worker number (what <see cref="VirtioDevice.WorkerFor"/> returns).</summary>
    public int Id { get; }

    /// <summary>True when called on this worker's thread.</summary>
    public bool IsCurrentThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>Runs <paramref name="action"/> on the worker soon; returns at once.</summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        _wake.Signal();
    }

    /// <summary>Runs <paramref name="action"/> on the worker and waits for it (inline if already there).</summary>
    public void Invoke(Action action)
    {
        if (IsCurrentThread)
        {
            action();
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? failure = null;
        Post(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// Watches <paramref name="fd"/> for <paramref name="events"/>; <paramref name="callback"/> runs
    /// on this worker. Dispose the registration to stop watching (before closing the fd).
    /// </summary>
    public IDisposable Watch(SafeHandle fd, EpollEvents events, Action<EpollEvents> callback)
    {
        var registration = new WatchRegistration(this, fd, callback);
        Invoke(() =>
        {
            registration.Token = _nextWatchToken++;
            _watches.Add(registration.Token, registration);
            _epoll.Add(fd, events, registration.Token);
        });
        return registration;
    }

    internal void AddQueue(DeviceQueue queue) => Invoke(() => _queues.Add(queue));

    /// <summary>Registers a started queue's kick fd (on the worker).</summary>
    internal void AddKick(DeviceQueue queue, EventFd kick) => _epoll.Add(kick.Descriptor, EpollEvents.In, 1 + (ulong)queue.Index);

    /// <summary>Unregisters a queue's kick fd (on the worker).</summary>
    internal void RemoveKick(EventFd kick) => _epoll.Remove(kick.Descriptor);

    /// <summary>Stops the thread and waits for it.</summary>
    public void Dispose()
    {
        if (!_stopping)
        {
            _stopping = true;
            _wake.Signal();
            if (!IsCurrentThread)
            {
                _thread.Join();
            }
            _epoll.Dispose();
            _wake.Dispose();
        }
    }

    private void Run()
    {
        Span<EpollEvent> events = stackalloc EpollEvent[32];
        try
        {
            while (!_stopping)
            {
                int count = _epoll.Wait(events, -1);
                for (int i = 0; i < count; i++)
                {
                    Dispatch(events[i]);
                }
                FlushNotifications();
            }
        }
        catch (Exception e)
        {
            Log.WorkerFailed(_logger, Id, e);
            throw;
        }
    }

    private void Dispatch(EpollEvent ev)
    {
        if (ev.Token == WakeToken)
        {
            _wake.Drain();
            while (_posted.TryDequeue(out var action))
            {
                RunGuarded(action);
            }
        }
        else if (ev.Token < WatchTokenBase)
        {
            int index = (int)(ev.Token - 1);
            foreach (var queue in _queues)
            {
                if (queue.Index == index)
                {
                    queue.OnKick();
                    break;
                }
            }
        }
        else if (_watches.TryGetValue(ev.Token, out var watch))
        {
            try
            {
                watch.Callback((EpollEvents)ev.Events);
            }
            catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
            {
                Log.GuestFaultInCallback(_logger, Id, e.Message);
            }
        }
    }

    private void RunGuarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is VirtqueueException or GuestMemoryException)
        {
            Log.GuestFaultInCallback(_logger, Id, e.Message);
        }
    }

    private void FlushNotifications()
    {
        foreach (var queue in _queues)
        {
            queue.FlushNotification();
        }
    }

    private sealed class WatchRegistration(QueueWorker worker, SafeHandle fd, Action<EpollEvents> callback) : IDisposable
    {
        private bool _disposed;

        public ulong Token { get; set; }

        public Action<EpollEvents> Callback { get; } = callback;

        public void Dispose()
        {
            if (_disposed || worker._stopping)
            {
                return;
            }
            _disposed = true;
            worker.Invoke(() =>
            {
                worker._watches.Remove(Token);
                worker._epoll.Remove(fd);
            });
        }
    }
}
