// FsRaceTests.cs — requests on one queue racing a FORGET on the hiprio queue or a RELEASE on
// another request queue. Before leases, the inode's or handle's fd could be closed between the
// table look-up and the system call: an ObjectDisposedException on a worker ends the daemon, and
// a /proc/self/fd/N path could name whatever file reused the number. Driven against
// PassthroughFs directly (two threads, many rounds) so the window is hit often.
using System.Collections.Concurrent;
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Passthrough;
using VhostUser.Unix;

namespace VhostUser.Devices.Tests.Fs;

public sealed class FsRaceTests
{
    private const ulong Root = FsTestBed.Root;
    private const int Rounds = 100_000;

    [Theory]
    [InlineData("never")]
    [InlineData("prefer")]
    public void GetAttrAndSetAttr_RacingForget_NeverThrow(string fileHandles)
    {
        using var share = new Share(fileHandles);
        File.WriteAllText(share.HostPath("f"), "x");
        long node = 0;
        var failures = Race(
            () =>
            {
                Assert.Equal(0, share.Fs.Lookup(Root, "f\0"u8, out var entry));
                Volatile.Write(ref node, (long)entry.NodeId);
                Thread.SpinWait(20);
                share.Fs.Forget(entry.NodeId, 1);
            },
            () =>
            {
                ulong current = (ulong)Volatile.Read(ref node);
                int errno = share.Fs.GetAttr(current, null, out _);
                Assert.True(errno is 0 or Errno.ENOENT, $"GETATTR errno {errno}");
                var times = new FuseSetAttrIn { Valid = FuseSetAttrIn.Mtime | FuseSetAttrIn.MtimeNow };
                errno = share.Fs.SetAttr(default, current, times, out _);
                Assert.True(errno is 0 or Errno.ENOENT, $"SETATTR errno {errno}");
            });
        Assert.Empty(failures);
    }

    [Fact]
    public void FlushReadAndLseek_RacingRelease_NeverThrow()
    {
        using var share = new Share("prefer");
        File.WriteAllText(share.HostPath("f"), "0123456789");
        Assert.Equal(0, share.Fs.Lookup(Root, "f\0"u8, out var entry));
        using var buffer = MappedRegion.MapAnonymous(4096);
        using var iov = new IoVectorArray();
        long handle = 0;
        var failures = Race(
            () =>
            {
                Assert.Equal(0, share.Fs.Open(default, entry.NodeId, 0, out var open));
                Volatile.Write(ref handle, (long)open.Handle);
                Thread.SpinWait(20);
                Assert.Equal(0, share.Fs.Release(entry.NodeId, open.Handle, 0, 0, 0));
            },
            () =>
            {
                ulong current = (ulong)Volatile.Read(ref handle);
                int errno = share.Fs.Flush(entry.NodeId, current, 0);
                Assert.True(errno is 0 or Errno.EBADF, $"FLUSH errno {errno}");
                iov.Clear();
                Assert.True(iov.TryAdd(buffer, 0, 10));
                errno = share.Fs.Read(entry.NodeId, current, 0, iov, out uint read);
                Assert.True(errno == Errno.EBADF || (errno == 0 && read == 10), $"READ errno {errno}, {read} bytes");
                errno = share.Fs.Lseek(entry.NodeId, current, 0, 0, out _);
                Assert.True(errno is 0 or Errno.EBADF, $"LSEEK errno {errno}");
            });
        Assert.Empty(failures);
    }

    /// <summary>Runs <paramref name="churn"/> Rounds times while <paramref name="use"/> loops on another thread; returns what either threw.</summary>
    private static List<Exception> Race(Action churn, Action use)
    {
        var failures = new ConcurrentQueue<Exception>();
        bool done = false;
        var user = new Thread(() =>
        {
            while (!Volatile.Read(ref done) && failures.IsEmpty)
            {
                try
                {
                    use();
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }
        });
        user.Start();
        try
        {
            for (int i = 0; i < Rounds && failures.IsEmpty; i++)
            {
                churn();
            }
        }
        catch (Exception e)
        {
            failures.Enqueue(e);
        }
        Volatile.Write(ref done, true);
        user.Join();
        return [.. failures];
    }

    /// <summary>A temporary shared directory served by a PassthroughFs (no device, no sandbox).</summary>
    private sealed class Share : IDisposable
    {
        public Share(string fileHandles)
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("vhost-fs-race-").FullName;
            var options = FsOptions.Create(Directory, null, 1, "auto", false, true, false, false, "none", fileHandles, 0, false);
            Fs = new PassthroughFs(options);
            Fs.Init((FuseInitFlags)ulong.MaxValue);
        }

        public string Directory { get; }

        public PassthroughFs Fs { get; }

        public string HostPath(string relative) => Path.Combine(Directory, relative);

        public void Dispose()
        {
            Fs.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
