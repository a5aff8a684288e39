// BlkOptions.cs — the blk daemon's options, validated here so the device can trust them. Names
// follow QEMU's contrib vhost-user-blk (--blk-file, --read-only) where it has them.
using System.Globalization;
using System.Text;
using VhostUser.Backend;
using VhostUser.Unix;

namespace VhostUser.Devices.Blk;

/// <summary>Which I/O engine carries file I/O off the queue workers.</summary>
internal enum IoEngineKind
{
    /// <summary>io_uring on each queue worker (completions through an eventfd on the worker).</summary>
    Uring,

    /// <summary>A pool of I/O threads doing preadv2/pwritev2.</summary>
    Threads,
}

/// <summary>Validated blk options.</summary>
/// <param name="Path">Image file or block device; null for a null disk.</param>
/// <param name="NullSize">Size of the null disk (reads return zeroes, writes are dropped), or 0.</param>
/// <param name="ReadOnly">Serve a read-only disk.</param>
/// <param name="Direct">Open the backing with O_DIRECT.</param>
/// <param name="Serial">GET_ID answer (at most 20 bytes).</param>
/// <param name="LogicalBlockSize">blk_size: 512, 1024, 2048 or 4096 (by default a block device's own logical sector size).</param>
/// <param name="PhysicalBlockSize">Physical block: the logical size times a power of two, at most 64 KiB (by default a block device's own).</param>
/// <param name="QueueCount">Request queues (each on its own worker).</param>
/// <param name="QueueSize">Largest ring accepted (and the requests each queue can have in flight).</param>
/// <param name="PollMicroseconds">Spin on the ring this long after a batch before sleeping (0: off).</param>
/// <param name="Engine">The I/O engine.</param>
/// <param name="IoThreads">Threads of the thread-pool engine.</param>
/// <param name="Workers">Queue worker threads; queue i runs on worker i mod Workers.</param>
internal sealed record BlkOptions(string? Path, long NullSize, bool ReadOnly, bool Direct, string Serial, int LogicalBlockSize,
    int PhysicalBlockSize, int QueueCount, int QueueSize, int PollMicroseconds, IoEngineKind Engine, int IoThreads, int Workers)
{
    /// <summary>Bytes of the virtio-blk GET_ID answer.</summary>
    public const int SerialLength = 20;

    /// <summary>Checks the raw option values; throws with a message that says what to fix.</summary>
    public static BlkOptions Create(string? path, string? nullSize, bool readOnly, bool direct, string? serial, int? logicalBlockSize,
        int? physicalBlockSize, int queueCount, int queueSize, int pollMicroseconds, string engine, int ioThreads, int? workers = null)
    {
        if (path is null == nullSize is null)
        {
            throw new DaemonOptionsException("give exactly one of --blk-file PATH or --null SIZE");
        }
        long size = nullSize is null ? 0 : ParseSize(nullSize, "--null");
        if (nullSize is not null && (size < 512 || size % 512 != 0))
        {
            throw new DaemonOptionsException($"--null size must be a positive multiple of 512 bytes, not {nullSize}");
        }
        if (path is not null && !File.Exists(path))
        {
            throw new DaemonOptionsException($"--blk-file {path} does not exist (create it, e.g. truncate -s 1G {path})");
        }
        (int deviceLogical, int devicePhysical) = path is null ? (512, 512) : SectorSizes(path);
        int logical = logicalBlockSize ?? Math.Min(deviceLogical, 4096);
        if (logical is not (512 or 1024 or 2048 or 4096))
        {
            throw new DaemonOptionsException($"--logical-block-size must be 512, 1024, 2048 or 4096, not {logical}");
        }
        // A block device's physical sector size is kept where it fits this logical size (a
        // smaller logical size than the device's is allowed: O_DIRECT transfers the device
        // refuses are redone buffered).
        int physical = physicalBlockSize
            ?? (devicePhysical >= logical && devicePhysical <= 65536 && IsPowerOfTwo(devicePhysical) ? devicePhysical : logical);
        if (physical < logical || physical > 65536 || !IsPowerOfTwo(physical))
        {
            throw new DaemonOptionsException($"--physical-block-size must be a power of two from the logical block size ({logical}) to 65536, not {physical}");
        }
        if (queueCount is < 1 or > 64)
        {
            throw new DaemonOptionsException($"--num-queues must be 1 to 64, not {queueCount}");
        }
        if (queueSize is < 2 or > 32768 || !IsPowerOfTwo(queueSize))
        {
            throw new DaemonOptionsException($"--queue-size must be a power of two from 2 to 32768, not {queueSize}");
        }
        if (pollMicroseconds is < 0 or > 1_000_000)
        {
            throw new DaemonOptionsException($"--poll-us must be 0 to 1000000, not {pollMicroseconds}");
        }
        var engineKind = engine switch
        {
            "uring" or "io_uring" => IoEngineKind.Uring,
            "threads" => IoEngineKind.Threads,
            _ => throw new DaemonOptionsException($"--io-engine must be uring or threads, not '{engine}'"),
        };
        if (ioThreads is < 1 or > 256)
        {
            throw new DaemonOptionsException($"--io-threads must be 1 to 256, not {ioThreads}");
        }
        // More workers than CPUs only adds context switches (all queues of a CPU share one epoll loop).
        int workerCount = workers ?? Math.Min(queueCount, Environment.ProcessorCount);
        if (workerCount < 1 || workerCount > queueCount)
        {
            throw new DaemonOptionsException($"--workers must be 1 to --num-queues ({queueCount}), not {workerCount}");
        }
        string id = serial ?? DefaultSerial(path);
        if (Encoding.UTF8.GetByteCount(id) > SerialLength)
        {
            throw new DaemonOptionsException($"--serial must be at most {SerialLength} bytes, '{serial}' is {Encoding.UTF8.GetByteCount(id)}");
        }
        return new BlkOptions(path, size, readOnly, direct, id, logical, physical, queueCount, queueSize,
            pollMicroseconds, engineKind, ioThreads, workerCount);
    }

    /// <summary>
    /// The logical and physical sector sizes of a block device (BLKSSZGET, BLKPBSZGET), so a 4Kn
    /// disk is served as one without --logical-block-size; 512 and 512 for an image file.
    /// </summary>
    private static (int Logical, int Physical) SectorSizes(string path)
    {
        try
        {
            using var file = BlockFile.Open(path, readOnly: true, direct: false);
            return (file.GetLogicalSectorSize(), file.GetPhysicalSectorSize());
        }
        catch (IOException)
        {
            return (512, 512); // the device opens the backing itself and reports why it cannot
        }
    }

    /// <summary>
    /// A serial that names the backing: 16 hex digits of the 64-bit XXH3 hash of its absolute path
    /// behind "vub-", so two disks of one guest differ and the same image keeps its serial across
    /// runs. (Not SHA-256: that would load OpenSSL into the daemon for one hash.)
    /// </summary>
    public static string DefaultSerial(string? path)
    {
        string key = path is null ? "null" : CanonicalPath(path);
        ulong hash = System.IO.Hashing.XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key));
        return "vub-" + hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The absolute path with a final symlink followed, so /dev/disk/by-id/… and the /dev/sdX it
    /// names get one serial (a path that cannot be resolved is used as given).
    /// </summary>
    private static string CanonicalPath(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }

    /// <summary>Parses 4096, 64K, 512M, 2G, 1T (binary units).</summary>
    public static long ParseSize(string text, string option)
    {
        string digits = text.TrimEnd('K', 'M', 'G', 'T', 'k', 'm', 'g', 't');
        int shift = text.Length == digits.Length ? 0 : char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 40 };
        if (text.Length - digits.Length > 1 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            || value > long.MaxValue >> shift)
        {
            throw new DaemonOptionsException($"{option} must be a size such as 1073741824, 512M or 4G, not '{text}'");
        }
        return value << shift;
    }

    private static bool IsPowerOfTwo(int value) => value > 0 && (value & (value - 1)) == 0;
}
