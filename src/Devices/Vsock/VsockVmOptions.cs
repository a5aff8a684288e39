// VsockVmOptions.cs — one guest's options (one device, one vhost-user socket), validated here so
// the device can trust them. Names and defaults follow rust-vmm's vhost-device-vsock: the same
// keys on the command line (--guest-cid …), in --vm key=value lists and in the YAML file, with
// '-' or '_' between words.
using System.Globalization;
using System.Text;
using VhostUser.Backend;

namespace VhostUser.Devices.Vsock;

/// <summary>Validated options of one vsock device.</summary>
/// <param name="GuestCid">The guest's context id (config space guest_cid).</param>
/// <param name="Socket">vhost-user socket to create (null with an inherited --fd).</param>
/// <param name="UdsPath">Host-side hybrid vsock socket; guest→host connections go to UdsPath_PORT.</param>
/// <param name="TxBufferSize">Per-connection buffer for guest→host data the host has not taken yet (our buf_alloc).</param>
/// <param name="QueueSize">Largest ring size accepted from the front end.</param>
/// <param name="Groups">Sibling groups: guests sharing one may connect to each other.</param>
internal sealed record VsockVmOptions(ulong GuestCid, string? Socket, string UdsPath, uint TxBufferSize, int QueueSize, IReadOnlyList<string> Groups)
{
    public const ulong DefaultGuestCid = 3;
    public const uint DefaultTxBufferSize = 256 * 1024;
    public const int DefaultQueueSize = 1024;
    public const string DefaultGroup = "default";

    /// <summary>Smallest tx buffer: one Linux rx buffer's payload.</summary>
    public const uint MinTxBufferSize = 4096;

    /// <summary>Largest tx buffer (per connection, so memory per guest is this × connections).</summary>
    public const uint MaxTxBufferSize = 64 * 1024 * 1024;

    /// <summary>
    /// Most bytes one guest's connections may hold for their host programs (each connection up to
    /// its tx-buffer-size, in a pooled array rounded up to a power of two); MaxConnections keeps
    /// connections × buffer within it. The same bound holds for what siblings queue for the guest.
    /// </summary>
    public const long BufferBudget = 1L << 30;

    /// <summary>Most connections per guest whatever the buffer size (16384, as the table of any guest).</summary>
    public const int ConnectionLimit = 16384;

    /// <summary>Fewest connections per guest: BufferBudget / MaxTxBufferSize.</summary>
    public const int MinConnections = (int)(BufferBudget / MaxTxBufferSize);

    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>The longest suffix added to --uds-path: "_" and a 32-bit port, or "_seqpacket".</summary>
    private const int LongestSuffix = 11;

    /// <summary>Most connections (and sibling connections with packets queued) for this guest: BufferBudget / buffer, 16 … 16384.</summary>
    public int MaxConnections =>
        (int)Math.Clamp(BufferBudget / (long)System.Numerics.BitOperations.RoundUpToPowerOf2(TxBufferSize), MinConnections, ConnectionLimit);

    /// <summary>Checks raw values; throws <see cref="DaemonOptionsException"/> saying what to fix.</summary>
    public static VsockVmOptions Create(string where, ulong guestCid, string? socket, string? udsPath, ulong txBufferSize, long queueSize, string? groups)
    {
        if (guestCid is < 3 or >= uint.MaxValue)
        {
            throw new DaemonOptionsException($"{where}guest-cid must be 3 to {uint.MaxValue - 1} (0, 1, 2 and {uint.MaxValue} are reserved), not {guestCid}");
        }
        if (socket is not null && socket.Length == 0)
        {
            throw new DaemonOptionsException($"{where}socket must name a path");
        }
        if (string.IsNullOrEmpty(udsPath))
        {
            throw new DaemonOptionsException($"{where}uds-path is required: the host-side Unix socket (host programs connect to it and write CONNECT <port>)");
        }
        if (Encoding.UTF8.GetByteCount(udsPath) + LongestSuffix > MaxSocketPathBytes)
        {
            throw new DaemonOptionsException($"{where}uds-path '{udsPath}' is too long: with '_<port>' added it must fit the {MaxSocketPathBytes}-byte Unix socket path limit");
        }
        if (txBufferSize is < MinTxBufferSize or > MaxTxBufferSize)
        {
            throw new DaemonOptionsException($"{where}tx-buffer-size must be {MinTxBufferSize} to {MaxTxBufferSize} bytes, not {txBufferSize}");
        }
        if (queueSize is < 1 or > 32768 || (queueSize & (queueSize - 1)) != 0)
        {
            throw new DaemonOptionsException($"{where}queue-size must be a power of two from 1 to 32768, not {queueSize}");
        }
        return new VsockVmOptions(guestCid, socket, udsPath, (uint)txBufferSize, (int)queueSize, ParseGroups(where, groups ?? DefaultGroup));
    }

    /// <summary>
    /// Parses one --vm value: comma-separated key=value pairs (guest-cid, socket, uds-path,
    /// tx-buffer-size, queue-size, groups).
    /// </summary>
    public static VsockVmOptions ParseVm(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in text.Trim().Split(','))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new DaemonOptionsException($"--vm '{text}': '{part}' is not key=value");
            }
            string key = NormalizeKey(part[..eq].Trim());
            if (!values.TryAdd(key, part[(eq + 1)..].Trim()))
            {
                throw new DaemonOptionsException($"--vm '{text}': {key} is given twice");
            }
        }
        return FromKeys(values, $"--vm '{text}': ");
    }

    /// <summary>Builds options from named values (a --vm list or one YAML item).</summary>
    public static VsockVmOptions FromKeys(IReadOnlyDictionary<string, string> values, string where)
    {
        foreach (string key in values.Keys)
        {
            if (key is not ("guest-cid" or "socket" or "uds-path" or "tx-buffer-size" or "queue-size" or "groups"))
            {
                throw new DaemonOptionsException($"{where}unknown key '{key}' (use guest-cid, socket, uds-path, tx-buffer-size, queue-size, groups)");
            }
        }
        if (!values.TryGetValue("socket", out string? socket))
        {
            throw new DaemonOptionsException($"{where}socket is required: the vhost-user socket QEMU connects to");
        }
        return Create(
            where,
            Number(values, "guest-cid", DefaultGuestCid, where),
            socket,
            values.GetValueOrDefault("uds-path"),
            Number(values, "tx-buffer-size", DefaultTxBufferSize, where),
            (long)Math.Min(Number(values, "queue-size", DefaultQueueSize, where), int.MaxValue),
            values.GetValueOrDefault("groups"));
    }

    /// <summary>"guest_cid" and "guest-cid" are the same key.</summary>
    public static string NormalizeKey(string key) => key.Replace('_', '-').ToLowerInvariant();

    /// <summary>
    /// Rejects two guests with one CID, and any socket path of the daemon that another could
    /// reach. A guest connecting to host port P opens UdsPath_P, so a path that is some guest's
    /// UdsPath followed by _&lt;port&gt; would hand that guest another guest's front door (or the
    /// daemon's own vhost-user socket) past the groups; each socket the daemon listens on (every
    /// uds-path, uds-path_seqpacket and vhost-user socket) must be neither another's path nor
    /// such a path. Paths are compared in full (relative ones against the working directory).
    /// </summary>
    public static void CheckDistinct(IReadOnlyList<VsockVmOptions> vms)
    {
        for (int i = 0; i < vms.Count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                var (a, b) = (vms[j], vms[i]);
                if (a.GuestCid == b.GuestCid)
                {
                    throw new DaemonOptionsException($"guest-cid {a.GuestCid} is used by two guests; each guest needs its own CID");
                }
                if (a.Socket is not null && b.Socket is not null && FullPath(a.Socket) == FullPath(b.Socket))
                {
                    throw new DaemonOptionsException($"socket {a.Socket} is used by two guests; each guest needs its own vhost-user socket");
                }
                if (FullPath(a.UdsPath) == FullPath(b.UdsPath))
                {
                    throw new DaemonOptionsException($"uds-path {a.UdsPath} is used by two guests; each guest needs its own");
                }
            }
        }
        var listeners = vms.SelectMany(Listeners).ToList();
        for (int i = 0; i < listeners.Count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (listeners[i].Path == listeners[j].Path)
                {
                    var (first, second) = (listeners[j], listeners[i]);
                    throw new DaemonOptionsException($"the {first.What} is also the {second.What} ({first.Given}); each socket needs its own path");
                }
            }
        }
        foreach (var listener in listeners)
        {
            foreach (var vm in vms)
            {
                if (ReachedPort(vm, listener.Path) is { } port)
                {
                    throw new DaemonOptionsException(
                        $"the {listener.What}, {listener.Given}, is where guest {vm.GuestCid} connects for host port {port} " +
                        $"(its uds-path {vm.UdsPath} + _{port}); choose paths that are not a uds-path followed by _<port> or _seqpacket");
                }
            }
        }
    }

    /// <summary>The sockets the daemon listens on for one guest: (full path, as given, description).</summary>
    private static IEnumerable<(string Path, string Given, string What)> Listeners(VsockVmOptions vm)
    {
        yield return (FullPath(vm.UdsPath), vm.UdsPath, $"uds-path of guest {vm.GuestCid}");
        yield return (FullPath(vm.UdsPath) + VsockDevice.SeqPacketListenerSuffix, vm.UdsPath + VsockDevice.SeqPacketListenerSuffix, $"seqpacket listener of guest {vm.GuestCid}");
        if (vm.Socket is not null)
        {
            yield return (FullPath(vm.Socket), vm.Socket, $"vhost-user socket of guest {vm.GuestCid}");
        }
    }

    /// <summary>The host port P for which <paramref name="vm"/> connects to <paramref name="path"/> (UdsPath_P, P as the daemon writes it), or null.</summary>
    private static uint? ReachedPort(VsockVmOptions vm, string path)
    {
        string prefix = FullPath(vm.UdsPath) + "_";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        string digits = path[prefix.Length..];
        return uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out uint port)
            && port.ToString(CultureInfo.InvariantCulture) == digits ? port : null;
    }

    private static string FullPath(string path) => Path.GetFullPath(path);

    private static ulong Number(IReadOnlyDictionary<string, string> values, string key, ulong fallback, string where)
    {
        if (!values.TryGetValue(key, out string? text))
        {
            return fallback;
        }
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new DaemonOptionsException($"{where}{key} must be a number, not '{text}'");
        }
        return value;
    }

    private static string[] ParseGroups(string where, string text)
    {
        string[] groups = text.Trim().Split('+', StringSplitOptions.TrimEntries);
        if (Array.Exists(groups, g => g.Length == 0))
        {
            throw new DaemonOptionsException($"{where}groups '{text}' has an empty name (write names joined by '+', e.g. a+b)");
        }
        return groups;
    }
}
