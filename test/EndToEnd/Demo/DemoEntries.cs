// The devices the demo knows, each with the files it needs in the demo's working directory. To
// add a device: one DemoEntry with its daemon, its QEMU device, a guest snippet that reports
// "<name>.*" checks and infos, a one-line summary, and (if the host has a part) a host program
// and a host check.
using System.Globalization;
using System.Net.Sockets;

namespace VhostUser.EndToEnd.Demo;

internal static class DemoEntries
{
    private const int DiskMiB = 64;
    private const int EchoBytes = 4 << 20;
    private const uint HostEchoPort = 5000;
    private const string FsTag = "demo";
    private const string HostGreeting = "hello from the host";
    private const string GuestGreeting = "hello from the guest";

    /// <summary>Every entry, with its files under <paramref name="work"/> (a fresh directory the caller removes).</summary>
    public static IReadOnlyList<DemoEntry> Create(string work) => [Rng(), Blk(work), Fs(work), Vsock(work)];

    /// <summary>QEMU's own virtio-rng in place of the rng daemon (--builtin: try the demo without daemons).</summary>
    public static DemoEntry BuiltinRng() => Rng() with
    {
        Name = "rng (QEMU built-in)",
        Daemon = null,
        Device = GuestDevice.Builtin("virtio-rng-pci", "virtio-rng-device"),
    };

    private static DemoEntry Rng() => new(
        "rng",
        new DaemonSpec("rng"),
        GuestDevice.VhostUser("rng", VhostUserDeviceType.Rng),
        Modules: ["virtio_rng"],
        Tools: [],
        GuestSnippet: """
            check_contains rng.current /sys/class/misc/hw_random/rng_current virtio_rng
            info rng.driver "$(cat /sys/class/misc/hw_random/rng_current)"
            timed rng.read sh -c 'head -c 1048576 /dev/hwrng | wc -c > /tmp/rng.bytes'
            info rng.bytes "$(cat /tmp/rng.bytes)"
            check rng.read_1MiB test "$(cat /tmp/rng.bytes)" = 1048576
            """,
        Summarize: r => Invariant($"read {Size(r.InfoNumber("rng.bytes"))} from /dev/hwrng ({r.InfoValue("rng.driver")}) in {r.InfoNumber("rng.read-cs") / 100:0.0} s"));

    private static DemoEntry Blk(string work)
    {
        string image = Path.Combine(work, "disk.img");
        return new DemoEntry(
            "blk",
            new DaemonSpec("blk", "--blk-file", image),
            GuestDevice.VhostUser("blk", VhostUserDeviceType.Blk, "num-queues=1"),
            Modules: ["virtio_blk", "ext4", "crc32c_generic"],
            Tools: ["mkfs.ext4", "e2fsck"],
            GuestSnippet: Invariant($"""
                check blk.disk wait_for /dev/vda 10
                info blk.sectors "$(cat /sys/block/vda/size)"
                check blk.mkfs mkfs.ext4 -q -F /dev/vda
                mkdir -p /mnt/blk
                check blk.mount mount -t ext4 /dev/vda /mnt/blk
                head -c {EchoBytes} /dev/urandom > /tmp/blk.data
                check blk.write cp /tmp/blk.data /mnt/blk/data
                check blk.umount sh -c 'sync && umount /mnt/blk'
                check blk.fsck e2fsck -fn /dev/vda
                echo 3 > /proc/sys/vm/drop_caches
                check blk.remount mount -t ext4 -o ro /dev/vda /mnt/blk
                check blk.read_back cmp /tmp/blk.data /mnt/blk/data
                umount /mnt/blk
                """),
            Summarize: r => Invariant($"ext4 on a {r.InfoNumber("blk.sectors") / 2048:0} MiB /dev/vda: {Size(EchoBytes)} written, fsck clean, read back equal after a remount"))
        {
            Prepare = () =>
            {
                using var file = File.Create(image);
                file.SetLength((long)DiskMiB << 20);
            },
        };
    }

    private static DemoEntry Fs(string work)
    {
        string share = Path.Combine(work, "share");
        string[] sandbox = Environment.UserName == "root" ? [] : ["--sandbox", "none"]; // the namespace sandbox needs root
        return new DemoEntry(
            "fs",
            new DaemonSpec("fs", ["--shared-dir", share, .. sandbox]),
            GuestDevice.VhostUser("fs", VhostUserDeviceType.Fs, $"tag={FsTag}"),
            Modules: [],
            Tools: [],
            GuestSnippet: $"""
                mkdir -p /mnt/fs
                check fs.mount mount -t virtiofs {FsTag} /mnt/fs
                check_contains fs.host_file /mnt/fs/hello.txt "{HostGreeting}"
                check fs.write sh -c 'echo "{GuestGreeting}" > /mnt/fs/from-guest.txt && sync'
                info fs.entries "$(ls /mnt/fs | wc -l)"
                check fs.umount umount /mnt/fs
                """,
            Summarize: _ => $"mounted tag '{FsTag}': read the host's hello.txt, and the host reads the guest's from-guest.txt")
        {
            Prepare = () =>
            {
                Directory.CreateDirectory(share);
                File.WriteAllText(Path.Combine(share, "hello.txt"), HostGreeting + "\n");
            },
            HostCheck = () =>
            {
                string written = Path.Combine(share, "from-guest.txt");
                return !File.Exists(written) ? "the host does not see from-guest.txt in the share"
                    : File.ReadAllText(written) != GuestGreeting + "\n" ? $"from-guest.txt holds '{File.ReadAllText(written).Trim()}' on the host"
                    : null;
            },
        };
    }

    private static DemoEntry Vsock(string work)
    {
        string uds = Path.Combine(work, "vm.vsock");
        long echoed = 0;
        return new DemoEntry(
            "vsock",
            new DaemonSpec("vsock", "--guest-cid", "3", "--uds-path", uds),
            GuestDevice.VhostUser("vsock", VhostUserDeviceType.Vsock),
            Modules: ["vmw_vsock_virtio_transport"],
            Tools: ["vsock-tool"],
            GuestSnippet: Invariant($$"""
                check vsock.echo sh -c 'vsock-tool send 2 {{HostEchoPort}} {{EchoBytes}} > /tmp/vsock.out 2>&1 || { cat /tmp/vsock.out; exit 1; }'
                info vsock.result "$(cat /tmp/vsock.out)"
                """),
            Summarize: _ => Invariant($"guest CID 3 -> host {Path.GetFileName(uds)}_{HostEchoPort}: {Size(EchoBytes)} echoed back by a host program, checked byte for byte"))
        {
            Prepare = () => GuestTool.Build("vsock-tool", "Vsock/vsock-tool.c", isStatic: true),
            HostProgram = cancel => EchoAsync(Invariant($"{uds}_{HostEchoPort}"), n => Interlocked.Add(ref echoed, n), cancel),
            HostCheck = () => Interlocked.Read(ref echoed) == EchoBytes ? null : Invariant($"the host program echoed {Interlocked.Read(ref echoed)} bytes, not {EchoBytes}"),
        };
    }

    /// <summary>The host side of guest→host vsock: a Unix stream listener that echoes every connection until EOF.</summary>
    private static async Task EchoAsync(string path, Action<int> counted, CancellationToken cancel)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(8);
        try
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                using var connection = await listener.AcceptAsync(cancel);
                try
                {
                    int n;
                    while ((n = await connection.ReceiveAsync(buffer, SocketFlags.None, cancel)) > 0)
                    {
                        counted(n);
                        for (int sent = 0; sent < n;)
                        {
                            sent += await connection.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, cancel);
                        }
                    }
                    connection.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // the guest reset the connection: its own check reports it; wait for the next one
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Size(double? bytes) => bytes switch
    {
        null => "nothing",
        >= 1 << 20 => Invariant($"{bytes / (1 << 20):0.#} MiB"),
        >= 1 << 10 => Invariant($"{bytes / (1 << 10):0.#} KiB"),
        _ => Invariant($"{bytes} bytes"),
    };
}
