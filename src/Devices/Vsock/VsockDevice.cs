// VsockDevice.cs — the virtio socket device (virtio spec 5.10; devices.md §6) for one guest,
// bridging the guest's AF_VSOCK connections to host Unix sockets the way Firecracker's and
// cloud-hypervisor's "hybrid vsock" does (see README.md). The back end gets only the rx (0) and
// tx (1) rings; QEMU keeps the event queue. The guest CID is config space (GET_CONFIG).
//
// Partial files: .Tx.cs (packets from the guest), .Rx.cs (packets to the guest, fairly scheduled
// over connections), .Host.cs (host listeners, the CONNECT handshake, moving bytes to and from
// host sockets), .Resets.cs (the RSTs owed to the guest), .Lifecycle.cs (queue start/stop, reset,
// the 1 s housekeeping timer).
//
// Threading: all connection state lives on worker 0, which serves both rings, every host socket
// and the timer. The only cross-thread pieces are the sibling mailbox (locked) and IsRunning.
using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VhostUser.Backend;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

/// <summary>virtio-vsock over vhost-user with a hybrid-vsock host side.</summary>
internal sealed partial class VsockDevice : VirtioDevice, IDisposable
{
    public const int RxQueue = 0;
    public const int TxQueue = 1;

    /// <summary>Most connections of this guest (VsockVmOptions.MaxConnections: BufferBudget / tx-buffer-size); further requests are refused with RST.</summary>
    public int MaxConnections => _options.MaxConnections;

    private readonly VsockVmOptions _options;
    private readonly VsockRegistry _registry;
    private readonly HashSet<string> _groups;
    private readonly Dictionary<ulong, VsockConnection> _connections = [];
    private readonly SiblingMailbox _mailbox;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private volatile bool _running;

    /// <summary>Creates the device and its host listeners; throws DaemonOptionsException if they cannot be made.</summary>
    public VsockDevice(VsockVmOptions options, VsockRegistry registry)
    {
        _options = options;
        _registry = registry;
        _groups = new HashSet<string>(options.Groups, StringComparer.Ordinal);
        _mailbox = new SiblingMailbox(options.TxBufferSize, options.MaxConnections);
        (_streamListener, _seqPacketListener) = CreateListeners(options.UdsPath);
        registry.Add(this);
    }

    public override VirtioDeviceType DeviceType => VirtioDeviceType.Vsock;

    public override int QueueCount => 2;

    public override VirtioFeatures DeviceFeatures => (VirtioFeatures)VsockConstants.SeqPacketFeature;

    public override int MaxQueueSize => _options.QueueSize;

    public override int ConfigSize => 8;

    /// <summary>This guest's CID.</summary>
    public ulong GuestCid => _options.GuestCid;

    /// <summary>The options the device was made with.</summary>
    public VsockVmOptions Options => _options;

    /// <summary>True while the driver runs both rings (read by siblings on their threads).</summary>
    public bool IsRunning => _running;

    /// <summary>Number of open connections (worker thread; tests read it after quiescing).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>True once the driver acknowledged VIRTIO_VSOCK_F_SEQPACKET (read by siblings on their threads).</summary>
    public bool SeqPacketNegotiated => ((ulong)AckedFeatures & VsockConstants.SeqPacketFeature) != 0;

    /// <summary>True if this guest and <paramref name="other"/> share a group.</summary>
    public bool SharesGroupWith(VsockDevice other) => _groups.Overlaps(other._groups);

    /// <summary>struct virtio_vsock_config { le64 guest_cid; }.</summary>
    public override void ReadConfig(int offset, Span<byte> destination)
    {
        Span<byte> config = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(config, _options.GuestCid);
        destination.Clear();
        if (offset >= 0 && offset < config.Length)
        {
            var source = config[offset..];
            source[..Math.Min(source.Length, destination.Length)].CopyTo(destination);
        }
    }

    public override void ProcessQueue(DeviceQueue queue)
    {
        if (queue.Index == TxQueue)
        {
            ProcessTx(queue);
        }
        else
        {
            TakeRxBuffers(queue);
        }
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values.ToList())
        {
            CloseHostSide(connection);
        }
        _connections.Clear();
        DisposeHost();
        _readVectors.Dispose();
        _probe.Dispose();
        _timer.Dispose();
        _mailbox.Dispose();
    }

    protected override void OnAttached()
    {
        _logger = Context.LoggerFactory.CreateLogger($"vsock.cid{_options.GuestCid}");
        WatchHostListeners();
        _mailboxWatch = Context.Watch(_mailbox.Signal, VhostUser.Unix.EpollEvents.In, _ => OnMailboxSignal());
        _timerWatch = Context.Watch(_timer.Descriptor, VhostUser.Unix.EpollEvents.In, _ => OnTimer());
        _timer.Arm(HousekeepingInterval, HousekeepingInterval);
    }

    private static Socket NewUnixSocket(VsockType type) =>
        new(AddressFamily.Unix, type == VsockType.SeqPacket ? SocketType.Seqpacket : SocketType.Stream, ProtocolType.Unspecified);
}
