// ProtocolNumbersGoldenTests.cs — request codes and feature bit numbers written out from the
// tables in /work/shared/reference/vhost-user-protocol.md (§4 front-end requests 1–45, §5 back-end
// requests 1–10, §6 protocol feature bits 0–23, §7 and virtqueues.md §1 for the virtio bits),
// with the spec's names beside them, so a renumbered enum member fails here and not on a guest.
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Protocol;

public sealed class ProtocolNumbersGoldenTests
{
    [Theory]
    [InlineData(1, FrontendRequest.GetFeatures)] // VHOST_USER_GET_FEATURES
    [InlineData(2, FrontendRequest.SetFeatures)] // VHOST_USER_SET_FEATURES
    [InlineData(3, FrontendRequest.SetOwner)] // VHOST_USER_SET_OWNER
    [InlineData(4, FrontendRequest.ResetOwner)] // VHOST_USER_RESET_OWNER
    [InlineData(5, FrontendRequest.SetMemTable)] // VHOST_USER_SET_MEM_TABLE
    [InlineData(6, FrontendRequest.SetLogBase)] // VHOST_USER_SET_LOG_BASE
    [InlineData(7, FrontendRequest.SetLogFd)] // VHOST_USER_SET_LOG_FD
    [InlineData(8, FrontendRequest.SetVringNum)] // VHOST_USER_SET_VRING_NUM
    [InlineData(9, FrontendRequest.SetVringAddr)] // VHOST_USER_SET_VRING_ADDR
    [InlineData(10, FrontendRequest.SetVringBase)] // VHOST_USER_SET_VRING_BASE
    [InlineData(11, FrontendRequest.GetVringBase)] // VHOST_USER_GET_VRING_BASE
    [InlineData(12, FrontendRequest.SetVringKick)] // VHOST_USER_SET_VRING_KICK
    [InlineData(13, FrontendRequest.SetVringCall)] // VHOST_USER_SET_VRING_CALL
    [InlineData(14, FrontendRequest.SetVringErr)] // VHOST_USER_SET_VRING_ERR
    [InlineData(15, FrontendRequest.GetProtocolFeatures)] // VHOST_USER_GET_PROTOCOL_FEATURES
    [InlineData(16, FrontendRequest.SetProtocolFeatures)] // VHOST_USER_SET_PROTOCOL_FEATURES
    [InlineData(17, FrontendRequest.GetQueueNum)] // VHOST_USER_GET_QUEUE_NUM
    [InlineData(18, FrontendRequest.SetVringEnable)] // VHOST_USER_SET_VRING_ENABLE
    [InlineData(19, FrontendRequest.SendRarp)] // VHOST_USER_SEND_RARP
    [InlineData(20, FrontendRequest.NetSetMtu)] // VHOST_USER_NET_SET_MTU
    [InlineData(21, FrontendRequest.SetBackendReqFd)] // VHOST_USER_SET_BACKEND_REQ_FD
    [InlineData(22, FrontendRequest.IotlbMsg)] // VHOST_USER_IOTLB_MSG
    [InlineData(23, FrontendRequest.SetVringEndian)] // VHOST_USER_SET_VRING_ENDIAN
    [InlineData(24, FrontendRequest.GetConfig)] // VHOST_USER_GET_CONFIG
    [InlineData(25, FrontendRequest.SetConfig)] // VHOST_USER_SET_CONFIG
    [InlineData(26, FrontendRequest.CreateCryptoSession)] // VHOST_USER_CREATE_CRYPTO_SESSION
    [InlineData(27, FrontendRequest.CloseCryptoSession)] // VHOST_USER_CLOSE_CRYPTO_SESSION
    [InlineData(28, FrontendRequest.PostcopyAdvise)] // VHOST_USER_POSTCOPY_ADVISE
    [InlineData(29, FrontendRequest.PostcopyListen)] // VHOST_USER_POSTCOPY_LISTEN
    [InlineData(30, FrontendRequest.PostcopyEnd)] // VHOST_USER_POSTCOPY_END
    [InlineData(31, FrontendRequest.GetInflightFd)] // VHOST_USER_GET_INFLIGHT_FD
    [InlineData(32, FrontendRequest.SetInflightFd)] // VHOST_USER_SET_INFLIGHT_FD
    [InlineData(33, FrontendRequest.GpuSetSocket)] // VHOST_USER_GPU_SET_SOCKET
    [InlineData(34, FrontendRequest.ResetDevice)] // VHOST_USER_RESET_DEVICE
    [InlineData(35, FrontendRequest.VringKick)] // VHOST_USER_VRING_KICK
    [InlineData(36, FrontendRequest.GetMaxMemSlots)] // VHOST_USER_GET_MAX_MEM_SLOTS
    [InlineData(37, FrontendRequest.AddMemReg)] // VHOST_USER_ADD_MEM_REG
    [InlineData(38, FrontendRequest.RemMemReg)] // VHOST_USER_REM_MEM_REG
    [InlineData(39, FrontendRequest.SetStatus)] // VHOST_USER_SET_STATUS
    [InlineData(40, FrontendRequest.GetStatus)] // VHOST_USER_GET_STATUS
    [InlineData(41, FrontendRequest.GetSharedObject)] // VHOST_USER_GET_SHARED_OBJECT
    [InlineData(42, FrontendRequest.SetDeviceStateFd)] // VHOST_USER_SET_DEVICE_STATE_FD
    [InlineData(43, FrontendRequest.CheckDeviceState)] // VHOST_USER_CHECK_DEVICE_STATE
    [InlineData(44, FrontendRequest.GetShmemConfig)] // VHOST_USER_GET_SHMEM_CONFIG
    [InlineData(45, FrontendRequest.GetVringBaseSkipDrain)] // VHOST_USER_GET_VRING_BASE_SKIP_DRAIN
    public void FrontendRequest_SpecTable_CodeMatches(uint code, FrontendRequest request) =>
        Assert.Equal(code, (uint)request);

    [Fact]
    public void FrontendRequest_EveryMember_InTheSpecTable() =>
        Assert.Equal([.. Enumerable.Range(0, 46).Select(i => (uint)i)], Enum.GetValues<FrontendRequest>().Select(r => (uint)r).Order());

    [Theory]
    [InlineData(1, BackendRequest.IotlbMsg)]
    [InlineData(2, BackendRequest.ConfigChangeMsg)]
    [InlineData(3, BackendRequest.VringHostNotifierMsg)]
    [InlineData(4, BackendRequest.VringCall)]
    [InlineData(5, BackendRequest.VringErr)]
    [InlineData(6, BackendRequest.SharedObjectAdd)]
    [InlineData(7, BackendRequest.SharedObjectRemove)]
    [InlineData(8, BackendRequest.SharedObjectLookup)]
    [InlineData(9, BackendRequest.ShmemMap)]
    [InlineData(10, BackendRequest.ShmemUnmap)]
    public void BackendRequest_SpecTable_CodeMatches(uint code, BackendRequest request) =>
        Assert.Equal(code, (uint)request);

    [Theory]
    [InlineData(0, ProtocolFeatures.Mq)] // VHOST_USER_PROTOCOL_F_MQ
    [InlineData(1, ProtocolFeatures.LogShmfd)] // VHOST_USER_PROTOCOL_F_LOG_SHMFD
    [InlineData(2, ProtocolFeatures.Rarp)] // VHOST_USER_PROTOCOL_F_RARP
    [InlineData(3, ProtocolFeatures.ReplyAck)] // VHOST_USER_PROTOCOL_F_REPLY_ACK
    [InlineData(4, ProtocolFeatures.NetMtu)] // VHOST_USER_PROTOCOL_F_NET_MTU
    [InlineData(5, ProtocolFeatures.BackendReq)] // VHOST_USER_PROTOCOL_F_BACKEND_REQ
    [InlineData(6, ProtocolFeatures.CrossEndian)] // VHOST_USER_PROTOCOL_F_CROSS_ENDIAN
    [InlineData(7, ProtocolFeatures.CryptoSession)] // VHOST_USER_PROTOCOL_F_CRYPTO_SESSION
    [InlineData(8, ProtocolFeatures.Pagefault)] // VHOST_USER_PROTOCOL_F_PAGEFAULT
    [InlineData(9, ProtocolFeatures.Config)] // VHOST_USER_PROTOCOL_F_CONFIG
    [InlineData(10, ProtocolFeatures.BackendSendFd)] // VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD
    [InlineData(11, ProtocolFeatures.HostNotifier)] // VHOST_USER_PROTOCOL_F_HOST_NOTIFIER
    [InlineData(12, ProtocolFeatures.InflightShmfd)] // VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD
    [InlineData(13, ProtocolFeatures.ResetDevice)] // VHOST_USER_PROTOCOL_F_RESET_DEVICE
    [InlineData(14, ProtocolFeatures.InbandNotifications)] // VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS
    [InlineData(15, ProtocolFeatures.ConfigureMemSlots)] // VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS
    [InlineData(16, ProtocolFeatures.Status)] // VHOST_USER_PROTOCOL_F_STATUS
    [InlineData(17, ProtocolFeatures.XenMmap)] // VHOST_USER_PROTOCOL_F_XEN_MMAP
    [InlineData(18, ProtocolFeatures.SharedObject)] // VHOST_USER_PROTOCOL_F_SHARED_OBJECT
    [InlineData(19, ProtocolFeatures.DeviceState)] // VHOST_USER_PROTOCOL_F_DEVICE_STATE
    [InlineData(20, ProtocolFeatures.GetVringBaseInflight)] // VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT
    [InlineData(21, ProtocolFeatures.GpaAddresses)] // VHOST_USER_PROTOCOL_F_GPA_ADDRESSES
    [InlineData(22, ProtocolFeatures.Shmem)] // VHOST_USER_PROTOCOL_F_SHMEM
    [InlineData(23, ProtocolFeatures.GetVringBaseSkipDrain)] // VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN
    public void ProtocolFeatures_SpecTable_BitMatches(int bit, ProtocolFeatures feature) =>
        Assert.Equal(1UL << bit, (ulong)feature);

    [Fact]
    public void ProtocolFeatures_EveryMember_OneOfBitsZeroToTwentyThree() =>
        Assert.Equal([.. Enumerable.Range(0, 24).Select(b => 1UL << b)], Enum.GetValues<ProtocolFeatures>().Where(f => f != 0).Select(f => (ulong)f).Order());

    [Theory]
    [InlineData(24, VirtioFeatures.NotifyOnEmpty)]
    [InlineData(26, VirtioFeatures.VhostLogAll)]
    [InlineData(27, VirtioFeatures.AnyLayout)]
    [InlineData(28, VirtioFeatures.IndirectDesc)]
    [InlineData(29, VirtioFeatures.EventIdx)]
    [InlineData(30, VirtioFeatures.ProtocolFeatures)]
    [InlineData(32, VirtioFeatures.Version1)]
    [InlineData(33, VirtioFeatures.AccessPlatform)]
    [InlineData(34, VirtioFeatures.RingPacked)]
    [InlineData(35, VirtioFeatures.InOrder)]
    [InlineData(36, VirtioFeatures.OrderPlatform)]
    [InlineData(37, VirtioFeatures.SrIov)]
    [InlineData(38, VirtioFeatures.NotificationData)]
    [InlineData(40, VirtioFeatures.RingReset)]
    public void VirtioFeatures_SpecTable_BitMatches(int bit, VirtioFeatures feature) =>
        Assert.Equal(1UL << bit, (ulong)feature);
}
