// FsLockTests.cs — SETLKW waits off the queue workers without a thread of its own, and no wait
// outlives its ring: stopping the queue (GET_VRING_BASE) or an INTERRUPT ends it with EINTR at
// once, a freed lock is handed on, and a memory table change meanwhile does not matter.
using System.Diagnostics;
using VhostUser.Devices.Fs.Fuse;
using static VhostUser.Devices.Tests.Fs.FuseClient;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsLockTests
{
    private const ulong Root = FsTestBed.Root;
    private static readonly FuseFileLock Whole = new() { Start = 0, End = long.MaxValue, Type = 1 /* F_WRLCK */ };

    [Fact]
    public void SetLkW_MemoryTableReplacedWhileItWaits_ReplyStillArrives()
    {
        using var bed = new FsTestBed(requestQueues: 2);
        var (node, first, second) = LockedFile(bed);
        var waiter = Waiter.Start(bed.Clients[2], node, second, Whole);
        Thread.Sleep(300);
        Assert.True(waiter.IsWaiting, "SETLKW did not wait for the conflicting lock");
        bed.ResendMemoryTable();
        Assert.Equal(0, bed.Clients[1].Lookup(Root, "lock").Errno); // queues work on the new table
        Unlock(bed, node, first);
        Assert.Equal(0, waiter.Result());
    }

    [Fact]
    public void SetLkW_QueueStoppedWhileItWaits_EndsWithEintrBeforeTheRingDrains()
    {
        using var bed = new FsTestBed(requestQueues: 2);
        var (node, _, second) = LockedFile(bed);
        var waiter = Waiter.Start(bed.Clients[2], node, second, Whole);
        Thread.Sleep(300);
        Assert.True(waiter.IsWaiting, "SETLKW did not wait for the conflicting lock");
        var clock = Stopwatch.StartNew();
        bed.Frontend.GetVringBase(2); // QEMU stopping the queue: the daemon drains it first
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"GET_VRING_BASE took {clock.Elapsed} (a SETLKW held the ring)");
        Assert.Equal(Errno.EINTR, waiter.Result());
        // The lock was not taken for the interrupted request: the holder's still stands.
        Assert.Equal(Errno.EAGAIN, bed.Clients[1].Call(FuseOpcode.SetLk, node, Bytes(new FuseLkIn { Handle = second, Owner = 2, Lock = Whole })).Errno);
    }

    [Fact]
    public void SetLkW_Interrupted_EndsWithEintr()
    {
        using var bed = new FsTestBed(requestQueues: 2);
        var (node, first, second) = LockedFile(bed);
        ulong unique = bed.Clients[2].NextUnique;
        var waiter = Waiter.Start(bed.Clients[2], node, second, Whole);
        Thread.Sleep(300);
        Assert.True(waiter.IsWaiting, "SETLKW did not wait for the conflicting lock");
        bed.Clients[0].CallNoReply(FuseOpcode.Interrupt, 0, Bytes(new FuseInterruptIn { Unique = unique }));
        Assert.Equal(Errno.EINTR, waiter.Result());
        Unlock(bed, node, first);
        Assert.Equal(0, bed.Clients[2].Call(FuseOpcode.SetLkW, node, Bytes(new FuseLkIn { Handle = second, Owner = 2, Lock = Whole })).Errno);
    }

    [Fact]
    public void SetLkW_ManyWaiters_ShareOneThreadAndAllGetTheLock()
    {
        const int Waiters = 5; // each client takes 2 MiB of the test bed's 16 MiB guest RAM
        using var bed = new FsTestBed(requestQueues: 1 + Waiters);
        var (node, first, _) = LockedFile(bed);
        var read = Whole with { Type = 0 /* F_RDLCK */ };
        var waiters = Enumerable.Range(2, Waiters).Select(q =>
        {
            var (errno, handle) = bed.Clients[q].Open(node);
            Assert.Equal(0, errno);
            return Waiter.Start(bed.Clients[q], node, handle, read);
        }).ToList();
        Thread.Sleep(300);
        Assert.All(waiters, w => Assert.True(w.IsWaiting));
        var names = ThreadNames();
        Assert.DoesNotContain("fs-blocking", names);
        Assert.True(names.Count(n => n == "fs-locks") <= 1, string.Join(", ", names));
        Unlock(bed, node, first);
        Assert.All(waiters, w => Assert.Equal(0, w.Result())); // read locks: every waiter gets one
    }

    /// <summary>A file opened twice on queue 1, the first handle holding a write lock on all of it.</summary>
    private static (ulong Node, ulong First, ulong Second) LockedFile(FsTestBed bed)
    {
        var (_, entry, first) = bed.Clients[1].Create(Root, "lock");
        var (_, second) = bed.Clients[1].Open(entry.NodeId);
        Assert.Equal(0, bed.Clients[1].Call(FuseOpcode.SetLk, entry.NodeId, Bytes(new FuseLkIn { Handle = first.Handle, Owner = 1, Lock = Whole })).Errno);
        return (entry.NodeId, first.Handle, second);
    }

    private static void Unlock(FsTestBed bed, ulong node, ulong handle) =>
        Assert.Equal(0, bed.Clients[1].Call(FuseOpcode.SetLk, node, Bytes(new FuseLkIn { Handle = handle, Owner = 1, Lock = Whole with { Type = 2 /* F_UNLCK */ } })).Errno);

    /// <summary>Names of this process's threads (/proc/self/task/*/comm).</summary>
    private static List<string> ThreadNames() =>
        Directory.GetDirectories("/proc/self/task").Select(t => { try { return File.ReadAllText(Path.Combine(t, "comm")).Trim(); } catch (IOException) { return ""; } }).ToList();

    /// <summary>A SETLKW sent from a thread of its own (the client waits for the reply).</summary>
    private sealed class Waiter
    {
        private readonly Thread _thread;
        private int _errno = -100;
        private Exception? _failure;

        private Waiter(FuseClient client, ulong node, ulong handle, FuseFileLock lk)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    _errno = client.Call(FuseOpcode.SetLkW, node, Bytes(new FuseLkIn { Handle = handle, Owner = handle + 100, Lock = lk })).Errno;
                }
                catch (Exception e)
                {
                    _failure = e; // a reply that never came: the client's timeout
                }
            });
        }

        public bool IsWaiting => _thread.IsAlive;

        public static Waiter Start(FuseClient client, ulong node, ulong handle, FuseFileLock lk)
        {
            var waiter = new Waiter(client, node, handle, lk);
            waiter._thread.Start();
            return waiter;
        }

        public int Result()
        {
            Assert.True(_thread.Join(TimeSpan.FromSeconds(15)), "SETLKW never completed");
            Assert.Null(_failure);
            return _errno;
        }
    }
}
