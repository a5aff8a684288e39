// BenchOptions.cs — the bench's options as a validated record: every check is here, so the runner
// can trust what it gets. Create throws BenchOptionsException with a message that says what to fix.
using VhostUser.Virtio;

namespace VhostUser.Bench;

/// <summary>Validated bench options.</summary>
/// <param name="SocketPath">The back end's socket.</param>
/// <param name="Device">Request format.</param>
/// <param name="QueueDepth">Requests kept in flight per queue.</param>
/// <param name="Queues">Request queues driven (all from one thread).</param>
/// <param name="QueueSize">Ring entries per queue.</param>
/// <param name="Duration">Measured time.</param>
/// <param name="Warmup">Time run before the measurement starts (not counted).</param>
/// <param name="Packed">Packed ring instead of split.</param>
/// <param name="EventIdx">Negotiate VIRTIO_F_EVENT_IDX.</param>
/// <param name="Indirect">Offer each request through one indirect descriptor.</param>
/// <param name="BlockSize">rng: bytes asked per request; blk: data bytes per request.</param>
/// <param name="Pattern">blk access pattern.</param>
/// <param name="Daemons">Commands to spawn: none, one (--spawn) or two (--compare).</param>
/// <param name="Repeat">Runs per daemon with --compare.</param>
/// <param name="BenchCpu">CPU the bench pins itself to (null: not pinned).</param>
/// <param name="DaemonCpu">CPU a spawned daemon is pinned to.</param>
internal sealed record BenchOptions(
    string SocketPath, DeviceKind Device, int QueueDepth, int Queues, int QueueSize, TimeSpan Duration, TimeSpan Warmup,
    bool Packed, bool EventIdx, bool Indirect, int BlockSize, AccessPattern Pattern,
    IReadOnlyList<string> Daemons, int Repeat, int? BenchCpu, int DaemonCpu)
{
    /// <summary>Largest block accepted (1 MiB).</summary>
    public const int MaxBlockSize = 1 << 20;

    /// <summary>Descriptors one request takes in the ring.</summary>
    public int RingSlotsPerRequest => Indirect ? 1 : Device == DeviceKind.Blk ? 3 : 1;

    /// <summary>The ring-shaping features to negotiate (besides the device's own).</summary>
    public VirtioFeatures RingFeatures => VirtioFeatures.Version1
        | (Packed ? VirtioFeatures.RingPacked : VirtioFeatures.None)
        | (EventIdx ? VirtioFeatures.EventIdx : VirtioFeatures.None)
        | (Indirect ? VirtioFeatures.IndirectDesc : VirtioFeatures.None);

    /// <summary>One line naming the workload, for reports.</summary>
    public string Describe() =>
        $"device={Device.ToString().ToLowerInvariant()}"
        + (Device == DeviceKind.Blk ? $" rw={Pattern.ToString().ToLowerInvariant()}" : "")
        + $" bs={BlockSize} qd={QueueDepth} queues={Queues} queue-size={QueueSize} ring={(Packed ? "packed" : "split")}"
        + $" event-idx={(EventIdx ? "on" : "off")} indirect={(Indirect ? "on" : "off")} duration={Duration.TotalSeconds:0.#}s";

    /// <summary>Checks the raw values; throws <see cref="BenchOptionsException"/> saying what to fix.</summary>
    public static BenchOptions Create(
        string? socketPath, DeviceKind device, int queueDepth, int queues, int queueSize, double durationSeconds, double warmupSeconds,
        bool packed, bool eventIdx, bool indirect, int? blockSize, AccessPattern pattern,
        string? spawn, IReadOnlyList<string>? compare, int? repeatCount, int? benchCpu, int daemonCpu)
    {
        Require(!string.IsNullOrEmpty(socketPath), "--socket-path PATH is required (the back end's socket; with --spawn/--compare, the daemon's)");
        Require(queueDepth >= 1, $"--queue-depth must be at least 1, not {queueDepth}");
        Require(queues is >= 1 and <= 64, $"--queues must be 1 to 64, not {queues}");
        Require(packed ? PackedRing.IsValidSize(queueSize) : SplitRing.IsValidSize(queueSize),
            $"--queue-size {queueSize} is not a valid {(packed ? "packed (1..32768)" : "split (a power of two up to 32768)")} ring size");
        Require(durationSeconds is > 0 and <= 3600, $"--duration must be more than 0 and at most 3600 seconds, not {durationSeconds}");
        Require(warmupSeconds is >= 0 and <= 600, $"--warmup must be 0 to 600 seconds, not {warmupSeconds}");
        int size = blockSize ?? (device == DeviceKind.Blk ? 4096 : 64);
        Require(size is >= 1 and <= MaxBlockSize, $"--block-size must be 1 to {MaxBlockSize} bytes, not {size}");
        Require(device != DeviceKind.Blk || size % 512 == 0, $"--block-size must be a multiple of 512 for blk, not {size}");
        var daemons = DaemonList(spawn, compare);
        Require(compare is not null || repeatCount is null, "--repeat applies to --compare only");
        int repeat = repeatCount ?? (compare is null ? 1 : 3);
        Require(repeat is >= 1 and <= 100, $"--repeat must be 1 to 100, not {repeat}");
        int cpus = OnlineCpus();
        int? pin = benchCpu ?? (daemons.Count > 0 && cpus > 1 ? 0 : null);
        Require(pin is null || (pin >= 0 && pin < cpus), $"--bench-cpu must be 0 to {cpus - 1}, not {pin}");
        Require(daemonCpu >= 0 && daemonCpu < cpus, $"--daemon-cpu must be 0 to {cpus - 1}, not {daemonCpu}");
        Require(daemons.Count == 0 || pin != daemonCpu, $"--bench-cpu and --daemon-cpu must differ (both {daemonCpu})");
        var options = new BenchOptions(socketPath!, device, queueDepth, queues, queueSize, TimeSpan.FromSeconds(durationSeconds),
            TimeSpan.FromSeconds(warmupSeconds), packed, eventIdx, indirect, size, pattern, daemons, repeat, pin, daemonCpu);
        Require(queueDepth * options.RingSlotsPerRequest <= queueSize,
            $"--queue-depth {queueDepth} needs {queueDepth * options.RingSlotsPerRequest} ring entries; raise --queue-size above {queueSize} or use --indirect on");
        return options;
    }

    /// <summary>
    /// CPUs the machine has online (/sys/devices/system/cpu/online, e.g. "0-1"): what taskset can
    /// pin to. Environment.ProcessorCount is not it: it follows a cgroup CPU quota.
    /// </summary>
    private static int OnlineCpus()
    {
        try
        {
            string text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            int last = text.Split(',', '-').Select(t => int.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).Max();
            return last + 1;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return Environment.ProcessorCount;
        }
    }

    private static List<string> DaemonList(string? spawn, IReadOnlyList<string>? compare)
    {
        Require(spawn is null || compare is null, "give --spawn or --compare, not both");
        if (compare is not null)
        {
            Require(compare.Count == 2 && compare.All(c => !string.IsNullOrWhiteSpace(c)), "--compare needs two daemon commands: --compare \"CMD_A\" \"CMD_B\"");
            return [.. compare];
        }
        if (spawn is not null)
        {
            Require(!string.IsNullOrWhiteSpace(spawn), "--spawn needs a daemon command");
            return [spawn];
        }
        return [];
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new BenchOptionsException(message);
        }
    }
}
