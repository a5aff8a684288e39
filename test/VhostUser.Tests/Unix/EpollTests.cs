using VhostUser.Unix;

namespace VhostUser.Tests.Unix;

public sealed class EpollTests
{
    [Fact]
    public void Wait_OneOfTwoSignalled_ReportsItsToken()
    {
        using var epoll = Epoll.Create();
        using var a = EventFd.Create();
        using var b = EventFd.Create();
        epoll.Add(a.Descriptor, EpollEvents.In, 7);
        epoll.Add(b.Descriptor, EpollEvents.In, 0xFFFF_0000_0000_0009);

        b.Signal();
        var events = new EpollEvent[4];
        int n = epoll.Wait(events, 1000);

        Assert.Equal(1, n);
        Assert.Equal(0xFFFF_0000_0000_0009UL, events[0].Token);
        Assert.NotEqual(0u, events[0].Events & (uint)EpollEvents.In);
    }

    [Fact]
    public void Wait_NothingReady_TimesOutWithZero()
    {
        using var epoll = Epoll.Create();
        using var a = EventFd.Create();
        epoll.Add(a.Descriptor, EpollEvents.In, 1);
        Assert.Equal(0, epoll.Wait(new EpollEvent[4], 10));
    }

    [Fact]
    public void Modify_NewToken_IsReported()
    {
        using var epoll = Epoll.Create();
        using var a = EventFd.Create();
        epoll.Add(a.Descriptor, EpollEvents.In, 1);
        epoll.Modify(a.Descriptor, EpollEvents.In, 2);
        a.Signal();

        var events = new EpollEvent[4];
        Assert.Equal(1, epoll.Wait(events, 1000));
        Assert.Equal(2UL, events[0].Token);
    }

    [Fact]
    public void Remove_Registered_StopsReporting()
    {
        using var epoll = Epoll.Create();
        using var a = EventFd.Create();
        epoll.Add(a.Descriptor, EpollEvents.In, 1);
        epoll.Remove(a.Descriptor);
        a.Signal();
        Assert.Equal(0, epoll.Wait(new EpollEvent[4], 10));
    }

    [Fact]
    public void Wait_BothSignalled_ReportsBothTokens()
    {
        using var epoll = Epoll.Create();
        using var a = EventFd.Create();
        using var b = EventFd.Create();
        epoll.Add(a.Descriptor, EpollEvents.In, 10);
        epoll.Add(b.Descriptor, EpollEvents.In, 20);
        a.Signal();
        b.Signal();

        var events = new EpollEvent[4];
        int n = epoll.Wait(events, 1000);

        Assert.Equal(2, n);
        Assert.Equal(new ulong[] { 10, 20 }, events[..n].Select(e => e.Token).Order().ToArray());
    }
}
