// ProtocolFeatures.cs — GET/SET_PROTOCOL_FEATURES bits (vhost-user-protocol.md §6).
namespace VhostUser.Protocol;

/// <summary>vhost-user protocol feature bits.</summary>
[Flags]
public enum ProtocolFeatures : ulong
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Bit 0: GET_QUEUE_NUM.</summary>
    Mq = 1UL << 0,
    /// <summary>Bit 1: dirty log as a shared-memory fd.</summary>
    LogShmfd = 1UL << 1,
    /// <summary>Bit 2: SEND_RARP.</summary>
    Rarp = 1UL << 2,
    /// <summary>Bit 3: NEED_REPLY honoured on any request.</summary>
    ReplyAck = 1UL << 3,
    /// <summary>Bit 4: NET_SET_MTU.</summary>
    NetMtu = 1UL << 4,
    /// <summary>Bit 5: back-end request channel.</summary>
    BackendReq = 1UL << 5,
    /// <summary>Bit 6: SET_VRING_ENDIAN.</summary>
    CrossEndian = 1UL << 6,
    /// <summary>Bit 7: crypto sessions.</summary>
    CryptoSession = 1UL << 7,
    /// <summary>Bit 8: postcopy.</summary>
    Pagefault = 1UL << 8,
    /// <summary>Bit 9: GET_CONFIG / SET_CONFIG / CONFIG_CHANGE_MSG.</summary>
    Config = 1UL << 9,
    /// <summary>Bit 10: fds on the back-end channel.</summary>
    BackendSendFd = 1UL << 10,
    /// <summary>Bit 11: host notifiers.</summary>
    HostNotifier = 1UL << 11,
    /// <summary>Bit 12: GET/SET_INFLIGHT_FD.</summary>
    InflightShmfd = 1UL << 12,
    /// <summary>Bit 13: RESET_DEVICE.</summary>
    ResetDevice = 1UL << 13,
    /// <summary>Bit 14: in-band notifications.</summary>
    InbandNotifications = 1UL << 14,
    /// <summary>Bit 15: GET_MAX_MEM_SLOTS / ADD_MEM_REG / REM_MEM_REG.</summary>
    ConfigureMemSlots = 1UL << 15,
    /// <summary>Bit 16: SET_STATUS / GET_STATUS.</summary>
    Status = 1UL << 16,
    /// <summary>Bit 17: Xen mmap regions.</summary>
    XenMmap = 1UL << 17,
    /// <summary>Bit 18: shared objects.</summary>
    SharedObject = 1UL << 18,
    /// <summary>Bit 19: device state transfer.</summary>
    DeviceState = 1UL << 19,
    /// <summary>Bit 20: GET_VRING_BASE may leave I/O in flight.</summary>
    GetVringBaseInflight = 1UL << 20,
    /// <summary>Bit 21: guest-physical addresses in ring and region messages.</summary>
    GpaAddresses = 1UL << 21,
    /// <summary>Bit 22: shared memory regions.</summary>
    Shmem = 1UL << 22,
    /// <summary>Bit 23: GET_VRING_BASE_SKIP_DRAIN.</summary>
    GetVringBaseSkipDrain = 1UL << 23,
}
