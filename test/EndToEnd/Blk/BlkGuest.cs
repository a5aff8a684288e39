// BlkGuest.cs — what the blk guest tests share: a temporary image, out/vhost-user-blk started
// either by the rig (DaemonSpec) or by the test itself (BlkDaemon) when the test must signal it —
// SIGHUP for a resize, SIGKILL and a restart on the same socket for crash-safe reconnect — and
// the QEMU device for a self-started daemon, on a chardev with reconnect-ms (the rig's own
// devices have none: QEMU's vhost-user-base devices cannot realize with it).
using System.Diagnostics;
using System.Security.Cryptography;

namespace VhostUser.EndToEnd.Tests.Blk;

internal sealed class BlkGuest : IDisposable
{
    public const int DiskMiB = 64;

    public BlkGuest(int diskMiB = DiskMiB, byte fill = 0)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("vhostd-blk-").FullName;
        ImagePath = Path.Combine(Directory, "disk.img");
        using var file = File.Create(ImagePath);
        if (fill == 0)
        {
            file.SetLength((long)diskMiB << 20);
        }
        else
        {
            var block = Enumerable.Repeat(fill, 1 << 20).ToArray();
            for (int i = 0; i < diskMiB; i++)
            {
                file.Write(block);
            }
        }
    }

    public string Directory { get; }

    public string ImagePath { get; }

    /// <summary>The rig starts out/vhost-user-blk on this image with <paramref name="options"/>.</summary>
    public DaemonSpec Daemon(params string[] options) => new("blk", ["--blk-file", ImagePath, .. options]);

    /// <summary>A vhost-user-blk device for a rig-started daemon.</summary>
    public static GuestDevice Device(int queues = 1) => GuestDevice.VhostUser("blk", VhostUserDeviceType.Blk, $"num-queues={queues}");

    /// <summary>QEMU arguments for a self-started daemon: a reconnecting chardev and the device on it.</summary>
    public static IEnumerable<string> ReconnectingDevice(Transport transport, string socketPath, int queues = 1) =>
    [
        "-chardev", $"socket,id=blkr,path={socketPath},reconnect-ms=200",
        "-device", $"{VhostUserDeviceType.Blk.For(transport)},chardev=blkr,num-queues={queues}",
    ];

    public string Sha256(long offset, int length)
    {
        var bytes = new byte[length];
        using var file = File.OpenRead(ImagePath);
        file.Position = offset;
        file.ReadExactly(bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    public byte[] Read(long offset, int length)
    {
        var bytes = new byte[length];
        using var file = File.OpenRead(ImagePath);
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Bytes the image occupies on the host file system (st_blocks × 512).</summary>
    public long AllocatedBytes()
    {
        var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%b", ImagePath]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return long.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
