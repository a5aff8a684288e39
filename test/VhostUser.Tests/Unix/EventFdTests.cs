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
}
