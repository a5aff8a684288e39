using VhostUser.Devices.Rng;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Frontend;
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
