// BlkAllocationTests.cs — the blk data path allocates nothing per request (design README 1.8):
// the worker thread's allocated-bytes counter, read on the worker before and after a window of
// requests, covers the whole round trip there — epoll wake-up, kick, pop, parse, iovecs over guest
// memory, io_uring submit and reap (or the null engine), status, complete, notification.
using VhostUser.Devices.Blk;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkAllocationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Requests_WarmWorker_AllocateNothing(bool nullDisk, bool packed)
    {
        using var bed = new BlkTestBed(size: 8 << 20, nullDisk: nullDisk, packed: packed);
        var data = BlkTestBed.Pattern(4096, 1);
        RunMix(bed, data, 200); // warm-up: slots, chain storage and the JIT

        long before = bed.WorkerAllocatedBytes();
        RunMix(bed, data, 300);
        long allocated = bed.WorkerAllocatedBytes() - before;

        output.WriteLine($"{allocated} bytes allocated on the worker in 1200 requests");
        Assert.Equal(0, allocated);
    }

    private static void RunMix(BlkTestBed bed, byte[] data, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            ulong sector = (ulong)(i % 64) * 8;
            Assert.Equal(BlkStatus.Ok, bed.Write(sector, data));
            Assert.Equal(BlkStatus.Ok, bed.Read(sector, 4096).Status);
            Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Flush));
            Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.WriteZeroes, payload: BlkTestBed.Segment(sector, 8, 0)));
        }
    }
}
