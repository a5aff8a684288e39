using VhostUser.Unix;

namespace VhostUser.Tests.Unix;

public sealed class EventFdTests
{
    [Fact]
    public void Drain_NothingSignalled_ReturnsFalse()
    {
        using var fd = EventFd.Create();
        Assert.False(fd.Drain());
    }

    [Fact]
    public void Drain_AfterSignals_ReturnsTrueOnceAndResetsTheCounter()
    {
        using var fd = EventFd.Create();
        fd.Signal();
        fd.Signal();

        Assert.True(fd.Drain());
        Assert.False(fd.Drain());
    }

    [Fact]
    public void Signal_ThroughDuplicate_WakesTheOriginal()
    {
        using var fd = EventFd.Create();
        using var copy = EventFd.FromDescriptor(fd.Descriptor.Duplicate());
        copy.Signal();
        Assert.True(fd.Drain());
    }

    [Fact]
    public void WhyNotSignallable_Eventfd_Null()
    {
        using var fd = EventFd.Create();
        Assert.Equal(FileKind.Anonymous, fd.Descriptor.GetKind());
        Assert.Null(EventFd.WhyNotSignallable(fd.Descriptor));
    }

    [Fact]
    public void WhyNotSignallable_ReadOnlyOrSocketOrDirectory_SaysWhy()
    {
        using var readOnly = FileDescriptor.OpenRead("/dev/null");
        using var directory = FileDescriptor.OpenRead("/");
        var (socket, peer) = UnixSocket.SocketPair();
        using (socket)
        using (peer)
        {
            Assert.Equal("is not open for writing", EventFd.WhyNotSignallable(readOnly));
            Assert.Equal("is a socket, not an eventfd", EventFd.WhyNotSignallable(socket.Descriptor));
            Assert.Equal("is a directory, not an eventfd", EventFd.WhyNotSignallable(directory));
            Assert.Equal(FileKind.CharacterDevice, readOnly.GetKind());
        }
    }
}
