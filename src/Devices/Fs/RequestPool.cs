// RequestPool.cs — --thread-pool-size: threads that serve FUSE requests off the queue workers, so
// a slow file system call (fsync on a big file) does not stall the queue. The worker pops a
// chain, takes a lease on the current guest memory snapshot (the buffers stay mapped even if the
// memory table changes meanwhile) and queues it here; a pool thread serves it and hands the
// completion back to the queue's worker through an eventfd watched with DeviceContext.Watch, since
// only the worker may complete chains (DeviceQueue threading rule). A completion whose ring was
// stopped and started again meanwhile (a request that outlived the drain timeout) is dropped.
using System.Collections.Concurrent;
using VhostUser.Backend;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs;

/// <summary>Threads serving requests handed over by the queue workers.</summary>
internal sealed class RequestPool : IDisposable
{
    private readonly FuseServer _server;
    private readonly BlockingCollection<Work> _work = [];
    private readonly Thread[] _threads;
    private readonly Completions[] _completions;
    private readonly QueueEpochs _epochs;

    /// <summary>Starts <paramref name="threads"/> threads (0: none, requests are served on the queue workers).</summary>
    public RequestPool(FuseServer server, int threads, int queueCount, QueueEpochs epochs)
    {
        _server = server;
        _epochs = epochs;
        _completions = new Completions[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            _completions[i] = new Completions();
        }
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"fs-pool-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>True if requests go to the pool (else they are served on the worker).</summary>
    public bool HasThreads => _threads.Length > 0;

    /// <summary>Watches each queue's completion eventfd on that queue's worker.</summary>
    public void Attach(DeviceContext context, Func<int, int> workerFor)
    {
        for (int i = 0; i < _completions.Length; i++)
        {
            var completions = _completions[i];
            var queue = context.Queues[i];
            completions.Watch = context.Watch(completions.Signal.Descriptor, EpollEvents.In, _ => Drain(queue), workerFor(i));
        }
    }

    /// <summary>Hands a popped chain to the pool (on the queue's worker).</summary>
    public void Submit(DeviceQueue queue, in DescriptorChain chain)
    {
        var work = new Work(queue, chain, queue.Memory.Lease(), _epochs[queue.Index]);
        _work.Add(work);
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        foreach (var completions in _completions)
        {
            completions.Watch?.Dispose();
            completions.Signal.Dispose();
        }
        _work.Dispose();
    }

    private void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            Serve(work);
        }
    }

    private void Serve(Work work)
    {
        uint written;
        using (work.Lease)
        {
            written = _server.Handle(work.Chain, work.Lease.Memory);
        }
        var completions = _completions[work.Queue.Index];
        completions.Done.Enqueue((work.Chain, written, work.Epoch));
        completions.Signal.Signal();
    }

    /// <summary>On the queue's worker: completes what the pool finished.</summary>
    private void Drain(DeviceQueue queue)
    {
        var completions = _completions[queue.Index];
        completions.Signal.Drain();
        while (completions.Done.TryDequeue(out var done))
        {
            if (done.Epoch == _epochs[queue.Index])
            {
                queue.Complete(done.Chain, done.Written);
                queue.FlushNotification();
            }
        }
    }

    private readonly record struct Work(DeviceQueue Queue, DescriptorChain Chain, GuestMemoryLease Lease, long Epoch);

    private sealed class Completions
    {
        public EventFd Signal { get; } = EventFd.Create();

        public ConcurrentQueue<(DescriptorChain Chain, uint Written, long Epoch)> Done { get; } = new();

        public IDisposable? Watch { get; set; }
    }
}
