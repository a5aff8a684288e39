// BlockIoTests.cs — the block I/O primitives: IoVectorArray (entries over mappings, merging,
// capacity, leases that keep a disposed mapping alive), BlockFile (vectored read/write at an
// offset, fallocate, size) and IoUring (the same operations through the rings, completions,
// the async-completion eventfd).
using VhostUser.Unix;

namespace VhostUser.Tests.Unix;

public sealed class BlockIoTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"vhostd-blockio-{Guid.NewGuid():N}.img");

    public BlockIoTests()
    {
        using var file = File.Create(_path);
        file.SetLength(1 << 20);
    }

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void TryAdd_ContiguousRanges_MergeIntoOneEntry()
    {
        using var mapping = MappedRegion.MapAnonymous(8192);
        using var iov = new IoVectorArray(4);

        Assert.True(iov.TryAdd(mapping, 0, 100));
        Assert.True(iov.TryAdd(mapping, 100, 100));
        Assert.True(iov.TryAdd(mapping, 4096, 10));

        Assert.Equal((2, 210UL), (iov.Count, iov.TotalLength));
    }

    [Fact]
    public void TryAdd_Full_ReturnsFalse()
    {
        using var mapping = MappedRegion.MapAnonymous(8192);
        using var iov = new IoVectorArray(2);
        Assert.True(iov.TryAdd(mapping, 0, 1));
        Assert.True(iov.TryAdd(mapping, 10, 1));

        Assert.False(iov.TryAdd(mapping, 20, 1));
        Assert.Equal(2, iov.Count);
    }

    [Fact]
    public void TryAdd_PastTheFirstBlock_GrowsKeepingEveryEntryUpToTheCapacity()
    {
        // 1024 separate one-byte pieces (every other byte, so none merge): the array starts with
        // room for a few and must grow to the whole capacity, keeping the early entries intact.
        using var mapping = MappedRegion.MapAnonymous(2 * IoVectorArray.MaxEntries + 2);
        using var iov = new IoVectorArray();
        Assert.True(iov.Allocated < IoVectorArray.MaxEntries, $"{iov.Allocated} entries allocated up front");
        for (int i = 0; i < IoVectorArray.MaxEntries; i++)
        {
            Assert.True(iov.TryAdd(mapping, (ulong)(2 * i), 1), $"entry {i}");
        }
        Assert.False(iov.TryAdd(mapping, 2 * IoVectorArray.MaxEntries, 1));
        Assert.Equal((IoVectorArray.MaxEntries, IoVectorArray.MaxEntries, (ulong)IoVectorArray.MaxEntries), (iov.Count, iov.Allocated, iov.TotalLength));

        iov.Fill(0x5a); // goes through every entry of the grown array
        var bytes = mapping.GetSpan(0, 2 * IoVectorArray.MaxEntries + 2);
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(i % 2 == 0 && i < 2 * IoVectorArray.MaxEntries ? 0x5a : 0, bytes[i]);
        }
    }
    [Fact]
    public void TryAdd_OutsideMapping_Throws()
    {
        using var mapping = MappedRegion.MapAnonymous(4096);
        using var iov = new IoVectorArray();

        Assert.Throws<ArgumentOutOfRangeException>(() => iov.TryAdd(mapping, 4000, 100));
    }

    [Fact]
    public void Lease_MappingDisposedWhileInArray_StaysMappedUntilClear()
    {
        var mapping = MappedRegion.MapAnonymous(4096);
        mapping.GetSpan(0, 4).Fill(7);
        using var iov = new IoVectorArray();
        Assert.True(iov.TryAdd(mapping, 0, 4096));

        mapping.Dispose(); // e.g. a memory-table change while the request is under I/O
        Assert.False(mapping.IsClosed); // SafeHandle defers the release (munmap) to the last lease
        iov.Fill(9);                    // would fault if the mapping were gone

        iov.Clear();
        Assert.True(mapping.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => iov.TryAdd(mapping, 0, 1));
    }

    [Fact]
    public void ReadVWriteV_ScatterGather_RoundTripsThroughTheFile()
    {
        using var file = BlockFile.Open(_path, readOnly: false, direct: false);
        using var mapping = MappedRegion.MapAnonymous(3 * 4096);
        var source = mapping.GetSpan(0, 4096);
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = (byte)i;
        }
        using var iov = new IoVectorArray();
        iov.TryAdd(mapping, 2048, 2048);
        iov.TryAdd(mapping, 0, 2048);

        Assert.Equal(4096, file.WriteV(iov, 8192, 0));
        iov.Clear();
        iov.TryAdd(mapping, 8192, 4096);
        Assert.Equal(4096, file.ReadV(iov, 8192));

        var back = mapping.GetSpan(8192, 4096);
        Assert.True(back[..2048].SequenceEqual(source[2048..]));
        Assert.True(back[2048..].SequenceEqual(source[..2048]));
        Assert.Equal(1 << 20, file.GetSize());
        Assert.False(file.IsBlockDevice);
    }

    [Fact]
    public void WriteV_ReadOnlyFile_ReturnsNegativeErrno()
    {
        using var file = BlockFile.Open(_path, readOnly: true, direct: false);
        using var mapping = MappedRegion.MapAnonymous(4096);
        using var iov = new IoVectorArray();
        iov.TryAdd(mapping, 0, 512);

        Assert.Equal(-9L, file.WriteV(iov, 0, 0)); // EBADF
    }

    [Fact]
    public void Allocate_PunchHole_ReadsBackZeroes()
    {
        File.WriteAllBytes(_path, Enumerable.Repeat((byte)0xEE, 64 * 1024).ToArray());
        using var file = BlockFile.Open(_path, readOnly: false, direct: false);

        Assert.Equal(0, file.Allocate(BlockFile.PunchHole, 4096, 8192));

        var bytes = File.ReadAllBytes(_path);
        Assert.All(bytes[4096..12288], b => Assert.Equal(0, b));
        Assert.Equal(0xEE, bytes[4095]);
        Assert.Equal(0xEE, bytes[12288]);
        Assert.Equal(64 * 1024, bytes.Length);
    }

    [Fact]
    public void Open_Directory_Throws()
    {
        Assert.Throws<IOException>(() => BlockFile.Open(Path.GetTempPath(), readOnly: true, direct: false));
    }

    [Fact]
    public void IoUring_WriteThenRead_CompletesWithByteCountsAndUserData()
    {
        using var file = BlockFile.Open(_path, readOnly: false, direct: false);
        using var ring = IoUring.Create(8);
        int f = ring.AttachFile(file.Descriptor);
        using var mapping = MappedRegion.MapAnonymous(8192);
        mapping.GetSpan(0, 4096).Fill(0x5A);
        using var write = new IoVectorArray();
        write.TryAdd(mapping, 0, 4096);

        Assert.True(ring.TryPrepareWriteV(f, write, 4096, 0, userData: 11));
        Assert.Equal(1, ring.Submit());
        ring.WaitForCompletions(1);
        Assert.True(ring.TryReap(out var written));
        Assert.Equal(new IoCompletion(11, 4096), written);

        using var read = new IoVectorArray();
        read.TryAdd(mapping, 4096, 4096);
        Assert.True(ring.TryPrepareReadV(f, read, 4096, userData: 12));
        Assert.True(ring.TryPrepareFsync(f, dataOnly: true, userData: 13));
        ring.Submit();
        ring.WaitForCompletions(2);
        var completions = new List<IoCompletion>();
        while (ring.TryReap(out var c))
        {
            completions.Add(c);
        }
        Assert.Contains(new IoCompletion(12, 4096), completions);
        Assert.Contains(new IoCompletion(13, 0), completions);
        Assert.All(mapping.GetSpan(4096, 4096).ToArray(), b => Assert.Equal(0x5A, b));
        Assert.Equal(0, ring.InFlight);
    }

    [Fact]
    public void IoUring_Fallocate_PunchesAndReportsErrnoForBadRange()
    {
        File.WriteAllBytes(_path, Enumerable.Repeat((byte)1, 16384).ToArray());
        using var file = BlockFile.Open(_path, readOnly: false, direct: false);
        using var ring = IoUring.Create(4);
        int f = ring.AttachFile(file.Descriptor);

        ring.TryPrepareFallocate(f, BlockFile.PunchHole, 4096, 4096, userData: 1);
        ring.TryPrepareFallocate(f, BlockFile.PunchHole, -1, 4096, userData: 2);
        ring.Submit();
        ring.WaitForCompletions(2);
        var results = new Dictionary<ulong, int>();
        while (ring.TryReap(out var c))
        {
            results[c.UserData] = c.Result;
        }

        Assert.Equal(0, results[1]);
        Assert.Equal(-22, results[2]); // EINVAL
        Assert.All(File.ReadAllBytes(_path)[4096..8192], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IoUring_AnyCompletion_SignalsTheCompletionEvent(bool direct)
    {
        // Inline, io-wq and task-work completions alike must wake a worker sleeping in epoll.
        using var file = BlockFile.Open(_path, readOnly: false, direct);
        using var ring = IoUring.Create(4);
        int f = ring.AttachFile(file.Descriptor);
        using var mapping = MappedRegion.MapAnonymous(8192);
        using var iov = new IoVectorArray();
        iov.TryAdd(mapping, 4096, 4096);
        using var epoll = Epoll.Create();
        epoll.Add(ring.CompletionEvent.Descriptor, EpollEvents.In, 1);
        Span<EpollEvent> events = stackalloc EpollEvent[1];

        ring.TryPrepareWriteV(f, iov, 0, 0, userData: 1);
        ring.Submit();

        // Task work interrupts epoll_wait (EINTR, reported as 0 events) before it posts the
        // completion; a worker simply waits again, as QueueWorker does.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        int ready = 0;
        while (ready == 0 && DateTime.UtcNow < deadline)
        {
            ready = epoll.Wait(events, 1000);
        }
        Assert.Equal(1, ready);
        Assert.True(ring.TryReap(out var completion));
        Assert.Equal(new IoCompletion(1, 4096), completion);
    }

    [Fact]
    public void IoUring_FullSubmissionRing_RefusesUntilSubmitted()
    {
        using var ring = IoUring.Create(2);
        for (int i = 0; i < ring.SubmissionEntries; i++)
        {
            Assert.True(ring.TryPrepareNop((ulong)i));
        }
        Assert.False(ring.TryPrepareNop(99));

        ring.Submit();
        ring.WaitForCompletions(ring.SubmissionEntries);
        while (ring.TryReap(out _))
        {
        }
        Assert.True(ring.TryPrepareNop(100));
        ring.Submit();
        ring.WaitForCompletions(1);
        Assert.True(ring.TryReap(out var last));
        Assert.Equal(100UL, last.UserData);
    }
}
