// FrontendRequest.cs — request codes the front end sends (vhost-user rst "Front-end message
// types"; vhost-user-protocol.md §4). Old names (slave/master) appear only in comments.
namespace VhostUser.Protocol;

/// <summary>Front-end → back-end request codes.</summary>
public enum FrontendRequest : uint
{
    /// <summary>No request (invalid).</summary>
    None = 0,
    /// <summary>Get the device and vhost feature bits.</summary>
    GetFeatures = 1,
    /// <summary>Set the acknowledged feature bits.</summary>
    SetFeatures = 2,
    /// <summary>Claim the session.</summary>
    SetOwner = 3,
    /// <summary>Deprecated reset.</summary>
    ResetOwner = 4,
    /// <summary>Replace the memory table (fds: one per region).</summary>
    SetMemTable = 5,
    /// <summary>Dirty log memory (LOG_SHMFD).</summary>
    SetLogBase = 6,
    /// <summary>Dirty log notification eventfd.</summary>
    SetLogFd = 7,
    /// <summary>Queue size.</summary>
    SetVringNum = 8,
    /// <summary>Ring addresses.</summary>
    SetVringAddr = 9,
    /// <summary>Next available index.</summary>
    SetVringBase = 10,
    /// <summary>Stop the ring and return its position.</summary>
    GetVringBase = 11,
    /// <summary>Kick eventfd; starts the ring.</summary>
    SetVringKick = 12,
    /// <summary>Call eventfd.</summary>
    SetVringCall = 13,
    /// <summary>Error eventfd.</summary>
    SetVringErr = 14,
    /// <summary>Get protocol feature bits.</summary>
    GetProtocolFeatures = 15,
    /// <summary>Set protocol feature bits.</summary>
    SetProtocolFeatures = 16,
    /// <summary>Maximum number of queues (MQ).</summary>
    GetQueueNum = 17,
    /// <summary>Enable or disable a ring.</summary>
    SetVringEnable = 18,
    /// <summary>Net: send a RARP.</summary>
    SendRarp = 19,
    /// <summary>Net: set the MTU.</summary>
    NetSetMtu = 20,
    /// <summary>Back-end request channel socket (BACKEND_REQ).</summary>
    SetBackendReqFd = 21,
    /// <summary>IOTLB update or invalidation.</summary>
    IotlbMsg = 22,
    /// <summary>Legacy ring endianness.</summary>
    SetVringEndian = 23,
    /// <summary>Read device config space.</summary>
    GetConfig = 24,
    /// <summary>Write device config space.</summary>
    SetConfig = 25,
    /// <summary>Crypto: create session.</summary>
    CreateCryptoSession = 26,
    /// <summary>Crypto: close session.</summary>
    CloseCryptoSession = 27,
    /// <summary>Postcopy: advise.</summary>
    PostcopyAdvise = 28,
    /// <summary>Postcopy: listen.</summary>
    PostcopyListen = 29,
    /// <summary>Postcopy: end.</summary>
    PostcopyEnd = 30,
    /// <summary>Get the inflight tracking area (INFLIGHT_SHMFD).</summary>
    GetInflightFd = 31,
    /// <summary>Set the inflight tracking area.</summary>
    SetInflightFd = 32,
    /// <summary>GPU display socket.</summary>
    GpuSetSocket = 33,
    /// <summary>Reset the device, keeping the session.</summary>
    ResetDevice = 34,
    /// <summary>In-band kick.</summary>
    VringKick = 35,
    /// <summary>Most memory slots (CONFIGURE_MEM_SLOTS).</summary>
    GetMaxMemSlots = 36,
    /// <summary>Add one memory region.</summary>
    AddMemReg = 37,
    /// <summary>Remove one memory region.</summary>
    RemMemReg = 38,
    /// <summary>Set the device status byte.</summary>
    SetStatus = 39,
    /// <summary>Get the device status byte.</summary>
    GetStatus = 40,
    /// <summary>Shared object lookup.</summary>
    GetSharedObject = 41,
    /// <summary>Device state transfer fd.</summary>
    SetDeviceStateFd = 42,
    /// <summary>Check the result of a device state transfer.</summary>
    CheckDeviceState = 43,
    /// <summary>Shared memory regions.</summary>
    GetShmemConfig = 44,
    /// <summary>Stop a ring without draining it.</summary>
    GetVringBaseSkipDrain = 45,
}
