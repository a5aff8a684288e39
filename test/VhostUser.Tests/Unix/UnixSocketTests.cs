// UnixSocketTests.cs — bytes and SCM_RIGHTS descriptors over a socketpair, and the MSG_CTRUNC path.
using VhostUser.Unix;

namespace VhostUser.Tests.Unix;

public sealed class UnixSocketTests
{
    [Fact]
    public void SendReceive_Bytes_ArriveInOrder()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        {
            a.Send("hello"u8);
            var buffer = new byte[16];
            int n = b.Receive(buffer, fds: null);
            Assert.Equal("hello"u8.ToArray(), buffer[..n]);
        }
    }

    [Fact]
    public void SendReceive_WithFds_FdsArriveUsableAndCloseOnExec()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        using (var memfd = MemFd.Create("test", 4096))
        using (var eventFd = EventFd.Create())
        {
            using (var mapping = MappedRegion.Map(memfd, 4096))
            {
                "shared"u8.CopyTo(mapping.GetSpan(100, 6));
            }

            a.Send([1, 2, 3], [memfd, eventFd.Descriptor]);
            var received = new List<FileDescriptor>();
            var buffer = new byte[8];
            Assert.Equal(3, b.Receive(buffer, received));

            Assert.Equal(2, received.Count);
            Assert.All(received, fd => Assert.True(IsCloseOnExec(fd)));
            Assert.All(received, fd => Assert.NotEqual(memfd.RawValue, fd.RawValue));
            using (var theirs = MappedRegion.Map(received[0], 4096))
            {
                Assert.Equal("shared"u8.ToArray(), theirs.GetSpan(100, 6).ToArray());
            }
            using var theirEvent = EventFd.FromDescriptor(received[1]);
            theirEvent.Signal();
            Assert.True(eventFd.Drain());
            received[0].Dispose();
        }
    }

    [Fact]
    public void Send_MoreFdsThanMaxPerMessage_IsRefused()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        {
            var fds = Enumerable.Range(0, UnixSocket.MaxFdsPerMessage + 1).Select(_ => EventFd.Create().Descriptor).ToArray();
            Assert.Throws<ArgumentException>(() => a.Send([0], fds));
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    [Fact]
    public void Receive_MoreFdsThanControlBufferHolds_ThrowsForCtruncAndHandsOutNone()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        {
            var fds = Enumerable.Range(0, UnixSocket.MaxFdsPerMessage + 8).Select(_ => EventFd.Create().Descriptor).ToArray();
            a.SendUnchecked([42], fds);
            var received = new List<FileDescriptor>();

            var ex = Assert.Throws<IOException>(() => b.Receive(new byte[4], received));

            Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
            Assert.Empty(received); // the ones that did arrive were closed, not handed out
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    [Fact]
    public void Receive_MoreFdsThanControlBufferHolds_ReportsCtruncAndTheBytesArriveWhole()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        {
            var fds = Enumerable.Range(0, UnixSocket.MaxFdsPerMessage + 8).Select(_ => EventFd.Create().Descriptor).ToArray();
            a.SendUnchecked([1, 2, 3, 4, 5, 6], fds);
            a.Send([7]);
            var received = new List<FileDescriptor>();
            var buffer = new byte[7];

            int total = b.Receive(buffer.AsSpan(0, 2), received, out bool truncated);
            bool truncatedLater = false;
            while (total < buffer.Length)
            {
                total += b.Receive(buffer.AsSpan(total), received, out bool again);
                truncatedLater |= again;
            }

            Assert.True(truncated);
            Assert.False(truncatedLater);
            Assert.Empty(received);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, buffer); // no byte lost with the fds
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    [Fact]
    public void Receive_PeerClosed_ReturnsZero()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (b)
        {
            a.Dispose();
            Assert.Equal(0, b.Receive(new byte[4], fds: null));
        }
    }

    [Fact]
    public async Task Shutdown_BlockedReceive_ReturnsZero()
    {
        var (a, b) = UnixSocket.SocketPair();
        using (a)
        using (b)
        {
            var receive = Task.Run(() => b.Receive(new byte[4], fds: null));
            await Task.Delay(50);
            b.Shutdown();
            Assert.Same(receive, await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(10))));
            Assert.Equal(0, await receive);
        }
    }

    [Fact]
    public void ListenConnectAccept_SocketPath_CarriesBytes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vhostd-test-{Guid.NewGuid():N}.sock");
        try
        {
            using var listener = UnixSocket.Listen(path);
            Assert.True(listener.IsListening);
            using var client = UnixSocket.Connect(path);
            using var server = listener.Accept();
            Assert.NotNull(server);
            Assert.False(server.IsListening);

            client.Send("ping"u8);
            var buffer = new byte[4];
            Assert.Equal(4, server.Receive(buffer, fds: null));
            Assert.Equal("ping"u8.ToArray(), buffer);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Accept_ListenerShutDown_ReturnsNull()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vhostd-test-{Guid.NewGuid():N}.sock");
        try
        {
            using var listener = UnixSocket.Listen(path);
            var accept = Task.Run(listener.Accept);
            await Task.Delay(50);
            listener.Shutdown();
            Assert.Same(accept, await Task.WhenAny(accept, Task.Delay(TimeSpan.FromSeconds(10))));
            Assert.Null(await accept);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Reads FD_CLOEXEC from /proc (the "flags:" line is octal; O_CLOEXEC is 02000000).</summary>
    private static bool IsCloseOnExec(FileDescriptor fd)
    {
        foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd.RawValue}"))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                long flags = Convert.ToInt64(line["flags:".Length..].Trim(), 8);
                return (flags & 0x80000) != 0;
            }
        }
        throw new InvalidOperationException("no flags line in fdinfo");
    }
}
