// BlkBlockDeviceTests.cs — a block device as the backing (a loop device over a temporary file,
// so root is needed; skipped otherwise): its size comes from BLKGETSIZE64, and DISCARD is a
// block-device discard — the loop driver punches the range out of its backing file, which the
// test sees as fewer allocated blocks. A 4Kn device is served as one unless told otherwise.
using System.Diagnostics;
using VhostUser.Devices.Blk;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkBlockDeviceTests : IDisposable
{
    private const int Size = 8 << 20;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"vhostd-blk-loop-{Guid.NewGuid():N}.img");
    private string? _loop;

    [SkippableTheory]
    [InlineData("uring")]   // IORING_OP_URING_CMD BLOCK_URING_CMD_DISCARD (Linux 6.12+)
    [InlineData("threads")] // ioctl(BLKDISCARD) on an I/O thread
    public void Discard_OnALoopDevice_IsABlockDiscardAndFreesTheBackingFile(string engine)
    {
        Skip.If(Environment.UserName != "root", "a loop device needs root");
        File.WriteAllBytes(_file, BlkTestBed.Pattern(Size, 3)); // fully allocated
        _loop = Run("losetup", "--find", "--show", _file);
        Skip.If(_loop is null, "losetup could not attach a loop device");
        using var bed = new BlkTestBed(backing: _loop, engine: engine);
        Assert.Equal((ulong)Size / 512, (ulong)bed.Device.Config.CapacitySectors);
        long before = AllocatedBytes();

        Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Discard, payload: BlkTestBed.Segment(2048, 4096, 0))); // 2 MiB at 1 MiB

        Assert.Equal(1, bed.Device.BlockDiscards);
        Assert.True(AllocatedBytes() <= before - (1 << 20), $"the backing file still has {AllocatedBytes()} of {before} bytes allocated");
        Assert.Equal(BlkStatus.Ok, bed.Read(0, 4096).Status); // the queue goes on
    }

    [SkippableFact]
    public void SectorSizes_OfA4KnLoopDevice_AreTheDefaultBlockSizes()
    {
        Skip.If(Environment.UserName != "root", "a loop device needs root");
        File.WriteAllBytes(_file, BlkTestBed.Pattern(Size, 5));
        _loop = Run("losetup", "--find", "--show", "--sector-size", "4096", _file);
        Skip.If(_loop is null, "losetup could not attach a loop device with 4096-byte sectors");

        using (var bed = new BlkTestBed(backing: _loop, direct: true))
        {
            Assert.Equal(4096, bed.Device.Config.LogicalBlockSize);
            Assert.Equal(4096, bed.Device.Config.PhysicalBlockSize);
            var read = bed.Read(8, 4096); // sector 8 = byte 4096, one whole logical block
            Assert.Equal(BlkStatus.Ok, read.Status);
            Assert.Equal(BlkTestBed.Pattern(Size, 5).AsSpan(4096, 4096).ToArray(), read.Data);
            Assert.Equal(BlkStatus.IoError, bed.Read(1, 512).Status); // not a whole block of this disk
        }

        // An explicit size wins (the guest then sees 512-byte sectors; O_DIRECT falls back to buffered).
        using var small = new BlkTestBed(backing: _loop, direct: true, logicalBlockSize: 512);
        Assert.Equal(512, small.Device.Config.LogicalBlockSize);
        Assert.Equal(4096, small.Device.Config.PhysicalBlockSize);
        Assert.Equal(BlkStatus.Ok, small.Read(1, 512).Status);
    }

    public void Dispose()
    {
        if (_loop is not null)
        {
            Run("losetup", "--detach", _loop);
        }
        File.Delete(_file);
    }

    private long AllocatedBytes() => long.Parse(Run("stat", "-c", "%b", _file)!, System.Globalization.CultureInfo.InvariantCulture) * 512;

    private static string? Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
