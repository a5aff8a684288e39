using VhostUser.Backend;
using VhostUser.Devices.Rng;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Frontend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Rng;

public sealed class RngDeviceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Request_WritableBuffer_FilledFromSource(bool packed, bool eventIdx)
    {
        using var source = TempSource(Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 1)).ToArray());
        using var device = new RngDevice(RngOptions.Create(source.Path, 1000, null, 1));
        using var daemon = new InProcessDaemon(device);
        var wanted = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc | (packed ? VirtioFeatures.RingPacked : 0) | (eventIdx ? VirtioFeatures.EventIdx : 0);
        using var driver = new DriverHarness(daemon.Frontend, wanted);
        var queue = driver.StartQueue(0, 8);

        for (int round = 0; round < 20; round++)
        {
            ushort id = queue.Offer(DriverBuffer.Writable(100), DriverBuffer.Writable(28));
            driver.Kick(0);
            var used = driver.WaitUsed(0, Timeout);
            Assert.Equal(id, (ushort)used.Id);
            Assert.Equal(128u, used.Length);
            var bytes = queue.ReadWritten(used);
            for (int i = 0; i < bytes.Length; i++)
            {
                int offset = (round * 128 + i) % 4096;
                Assert.Equal((byte)(offset * 7 + 1), bytes[i]);
            }
        }
    }

    [Fact]
    public void RateLimit_MaxBytesPerPeriod_HoldsBuffersUntilNextWindow()
    {
        using var device = new RngDevice(RngOptions.Create("/dev/urandom", 300, 64, 1));
        using var daemon = new InProcessDaemon(device);
        using var driver = new DriverHarness(daemon.Frontend, VirtioFeatures.Version1 | VirtioFeatures.EventIdx);
        var queue = driver.StartQueue(0, 8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        uint total = 0;
        for (int i = 0; i < 4; i++)
        {
            queue.Offer(DriverBuffer.Writable(64));
            driver.Kick(0);
            total += driver.WaitUsed(0, Timeout).Length;
            output.WriteLine($"{i}: {clock.ElapsedMilliseconds} ms");
        }
        output.WriteLine($"done: {clock.ElapsedMilliseconds} ms");
        // 4 × 64 bytes at 64 bytes per 300 ms: the last one cannot come before three windows passed.
        Assert.Equal(256u, total);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(850), $"4 windows took only {clock.Elapsed}");
    }

    [Theory]
    [InlineData("/etc", "is a directory")]
    [InlineData("", "is an empty file")]
    public void Create_SourceThatCanNeverServe_RefusedWithOneLine(string path, string expected)
    {
        using var empty = TempSource([]);
        string source = path.Length == 0 ? empty.Path : path;

        var e = Assert.Throws<DaemonOptionsException>(() => new RngDevice(RngOptions.Create(source, 1000, null, 1)));

        Assert.Contains($"--rng-source {source} {expected}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Request_SourceReadFails_BufferHeldDaemonServesAndStopIsPrompt()
    {
        // A directory fd reads with EISDIR: the run-time read error of a broken /dev/hwrng.
        var options = RngOptions.Create("/dev/urandom", 1000, null, 1) with { Source = "/" };
        using var device = new RngDevice(options, FileDescriptor.OpenRead("/", nonBlocking: true), new RateLimiter(options.Period, null));
        using var daemon = new InProcessDaemon(device);
        using var driver = new DriverHarness(daemon.Frontend, VirtioFeatures.Version1);
        var queue = driver.StartQueue(0, 8);

        queue.Offer(DriverBuffer.Writable(64));
        driver.Kick(0);

        Assert.Throws<TimeoutException>(() => driver.WaitUsed(0, TimeSpan.FromMilliseconds(300)));
        Assert.NotEqual(VirtioFeatures.None, daemon.Frontend.GetFeatures()); // the daemon is alive
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0u, daemon.Frontend.GetVringBase(0)); // the held buffer is given back
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"GET_VRING_BASE took {clock.Elapsed}");
    }

    [Fact]
    public void Request_FileEmptiedAfterStart_NoSpinAndServedOnceItHasDataAgain()
    {
        using var file = TempSource([]);
        var options = RngOptions.Create("/dev/urandom", 1000, null, 1) with { Source = file.Path };
        using var device = new RngDevice(options, FileDescriptor.OpenRead(file.Path, nonBlocking: true), new RateLimiter(options.Period, null));
        using var daemon = new InProcessDaemon(device);
        using var driver = new DriverHarness(daemon.Frontend, VirtioFeatures.Version1);
        var queue = driver.StartQueue(0, 8);

        queue.Offer(DriverBuffer.Writable(16));
        driver.Kick(0);
        Assert.Throws<TimeoutException>(() => driver.WaitUsed(0, TimeSpan.FromMilliseconds(300)));
        daemon.Frontend.SetVringEnable(0, true); // runs on the worker: it is not stuck in a read loop
        File.WriteAllBytes(file.Path, [1, 2, 3, 4, 5, 6, 7, 8]);

        var used = driver.WaitUsed(0, Timeout); // the retry timer reads it again
        Assert.Equal(16u, used.Length);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 }, queue.ReadWritten(used));
    }

    [Fact]
    public void Options_MaxBytesWithSeveralSockets_DividedAsVhostDeviceRngDoes()
    {
        var options = RngOptions.Create("/dev/urandom", RngOptions.DefaultPeriodMilliseconds, 1000, 3);

        Assert.Equal(333L, options.MaxBytesPerSocket);
        Assert.Null(RngOptions.Create("/dev/urandom", 1000, null, 3).MaxBytesPerSocket);
        Assert.Equal(TimeSpan.FromMilliseconds(65536), options.Period);
    }

    [Fact]
    public void Options_MaxBytesBelowSocketCount_Refused()
    {
        var e = Assert.Throws<DaemonOptionsException>(() => RngOptions.Create("/dev/urandom", 1000, 2, 3));
        Assert.Contains("--max-bytes 2 is shared by 3 sockets", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RateLimit_TwoSockets_EachGetsHalfTheBudget()
    {
        using var device = new RngDevice(RngOptions.Create("/dev/urandom", 60_000, 64, 2));
        using var daemon = new InProcessDaemon(device);
        using var driver = new DriverHarness(daemon.Frontend, VirtioFeatures.Version1);
        var queue = driver.StartQueue(0, 8);

        queue.Offer(DriverBuffer.Writable(64));
        driver.Kick(0);

        Assert.Equal(32u, driver.WaitUsed(0, Timeout).Length); // 64 bytes per minute for the daemon, 32 for this socket
        queue.Offer(DriverBuffer.Writable(64));
        driver.Kick(0);
        Assert.Throws<TimeoutException>(() => driver.WaitUsed(0, TimeSpan.FromMilliseconds(300)));
    }

    private static TempFile TempSource(byte[] contents)
    {
        var file = new TempFile();
        File.WriteAllBytes(file.Path, contents);
        return file;
    }

    private sealed class TempFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.GetTempFileName();

        public void Dispose() => File.Delete(Path);
    }
}
