// NotifierFdTests.cs — call and err fds that are not eventfds (vhost-user-protocol.md §1: the
// notifiers are eventfds). One that cannot be signalled at all (the read end of a pipe) is refused
// at SET_VRING_CALL and the queue keeps its previous call fd; one whose first write fails on a
// running ring is refused the same way; one that passes the checks but fails when signalled later
// (/dev/full: ENOSPC) breaks only its queue. Never does the daemon die: a worker exception used
// to end the process.
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests;

public sealed class NotifierFdTests
{
    [Fact]
    public void SetVringCall_ReadEndOfPipe_RefusedAndOldCallFdStillSignalled()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        var ring = driver.Start(0);
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using var readEnd = Borrow(pipe.SafePipeHandle);

        var e = Assert.Throws<ProtocolException>(() => pair.Frontend.SetVringCall(0, readEnd));

        Assert.Equal(ProtocolError.DeviceError, e.Error); // a failed reply-ack
        Assert.Equal("still served"u8.ToArray(), ring.Echo("still served"u8.ToArray())); // WaitUsed sleeps on the old call fd
        Assert.False(pair.Queue(0).IsBroken);
    }

    [Fact]
    public void SetVringCall_FirstSignalOnRunningRingFails_RefusedAndOldCallFdKept()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: true, eventIdx: true));
        var ring = driver.Start(0);
        using var full = OpenDevFull();

        Assert.Throws<ProtocolException>(() => pair.Frontend.SetVringCall(0, full));

        Assert.Equal([1, 2, 3], ring.Echo([1, 2, 3]));
        Assert.False(pair.Queue(0).IsBroken);
    }

    [Fact]
    public void CallFd_SignalFailsAfterCompletion_QueueBrokenDaemonServesAndRestartWorks()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        var queue = DriverQueue.Create(driver.Memory, 8, driver.Features & ~Virtio.VirtioFeatures.ProtocolFeatures);
        using var kick = EventFd.Create();
        using var full = OpenDevFull(); // writable, so SET_VRING_CALL takes it; every write fails
        pair.Frontend.StartQueue(0, queue, kick, full);

        queue.Offer(DriverBuffer.Readable(new byte[] { 9 }), DriverBuffer.Writable(1));
        kick.Signal();

        Assert.True(SpinWait.SpinUntil(() => pair.Queue(0).IsBroken, BackendPair.Timeout), "the failed call signal did not break the queue");
        Assert.True(queue.TryTakeUsed(out var used)); // completed before the signal failed
        Assert.Equal(new byte[] { 9 }, queue.ReadWritten(used));
        Assert.True(pair.Frontend.GetFeatures() != 0); // the daemon is alive
        uint stoppedAt = pair.Frontend.GetVringBase(0);
        using var ring = new DriverRing(pair.Frontend, 0, queue);
        ring.Restart(stoppedAt); // with a real call eventfd
        Assert.Equal([4, 5], ring.Echo([4, 5]));
    }

    [Fact]
    public void ErrFd_SignalFailsWhenTheGuestBreaksTheRing_DaemonServesAndRestartWorks()
    {
        using var pair = new BackendPair(new FakeDevice());
        using var driver = new Driver(pair.Frontend, Driver.RingFeatures(packed: false, eventIdx: false));
        using var full = OpenDevFull();
        pair.Frontend.SetVringErr(0, full);
        var ring = driver.Start(0);
        Assert.Equal([1], ring.Echo([1]));

        ring.Queue.PublishHead(200); // head outside the 8-entry ring: the queue breaks, err is signalled
        ring.Kick.Signal();

        Assert.True(SpinWait.SpinUntil(() => pair.Queue(0).IsBroken, BackendPair.Timeout));
        Assert.True(pair.Frontend.GetFeatures() != 0);
        Assert.Equal(1u, pair.Frontend.GetVringBase(0));
    }

    /// <summary>A non-owning wrapper over a handle another object owns, to pass as a "call fd".</summary>
    private static EventFd Borrow(SafeHandle handle) =>
        EventFd.FromDescriptor(new FileDescriptor((int)handle.DangerousGetHandle(), ownsHandle: false));

    private static EventFd OpenDevFull()
    {
        SafeFileHandle handle = File.OpenHandle("/dev/full", FileMode.Open, FileAccess.Write);
        int fd = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid(); // the FileDescriptor owns it now
        return EventFd.FromDescriptor(new FileDescriptor(fd));
    }
}
