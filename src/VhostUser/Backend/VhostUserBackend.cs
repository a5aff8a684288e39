// VhostUserBackend.cs — the per-connection protocol state machine: the control thread's blocking
// receive → dispatch → reply loop, the request switch, and the one place that decides what an
// error does (design README 1.5, 1.6). Handlers live in partial files by concern:
// .Features.cs, .Memory.cs, .Vrings.cs, .Config.cs, .Session.cs.
//
// Error policy: a fatal ProtocolException (broken framing) or an I/O error closes the
// connection. Any other refusal — ProtocolException, a guest-memory or virtqueue error while
// configuring, an I/O error mapping an fd — fails just that request: a failure reply-ack (or the
// request's own error reply) and a log line; the connection goes on.
using Microsoft.Extensions.Logging;
using VhostUser.Memory;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Virtio;

namespace VhostUser.Backend;

/// <summary>Serves one front-end connection for one device.</summary>
public sealed partial class VhostUserBackend
{
    private readonly VhostUserConnection _connection;
    private readonly VirtioDevice _device;
    private readonly DeviceContext _context;
    private readonly DeviceQueue[] _queues;
    private readonly ILogger _logger;

    /// <summary>A GET_SHMEM_CONFIG reply: u32 nregions, u32 padding, u64 memory_sizes[256].</summary>
    private const int EmptyShmemConfigSize = 8 + 256 * 8;

    /// <summary>Creates the state machine for a connected front end.</summary>
    internal VhostUserBackend(VhostUserConnection connection, VirtioDevice device, DeviceContext context, DeviceQueue[] queues, ILogger logger)
    {
        _connection = connection;
        _device = device;
        _context = context;
        _context.SaveCrashSafeState = SaveCrashSafeState;
        _queues = queues;
        _logger = logger;
        _rings = new RingSetup[queues.Length];
        for (int i = 0; i < _rings.Length; i++)
        {
            _rings[i] = new RingSetup();
        }
    }

    /// <summary>Receives and handles requests until the front end disconnects, then resets the device.</summary>
    public void Run()
    {
        try
        {
            while (true)
            {
                using var message = Receive();
                if (message is null)
                {
                    break;
                }
                Dispatch(message);
            }
        }
        catch (Exception e) when (e is IOException or ProtocolException)
        {
            Log.ConnectionFailed(_logger, e.Message);
        }
        finally
        {
            CloseSession();
        }
    }

    /// <summary>Unblocks <see cref="Run"/> from another thread.</summary>
    public void Shutdown() => _connection.Shutdown();

    private ReceivedMessage? Receive()
    {
        var message = _connection.Receive();
        if (message is not null)
        {
            Log.RequestReceived(_logger, message.Request, (uint)message.Header.Flags, message.Header.Size, message.Fds.Count);
        }
        return message;
    }

    private void Dispatch(ReceivedMessage message)
    {
        bool replied;
        try
        {
            if (message.FdsTruncated)
            {
                throw new ProtocolException(ProtocolError.WrongFdCount,
                    $"{message.Request} carried more than {Unix.UnixSocket.MaxFdsPerMessage} fds; all were closed");
            }
            replied = Handle(message);
        }
        catch (Exception e) when (IsRefusal(e))
        {
            Log.RequestRefused(_logger, message.Request, e.Message);
            SendFailure(message);
            return;
        }
        if (!replied && WantsReplyAck(message))
        {
            _connection.Reply((uint)message.Request, new U64Payload(0));
        }
    }

    /// <summary>
    /// NEED_REPLY asks for a reply-ack only once REPLY_ACK was negotiated (rst "REPLY_ACK";
    /// vhost-user-protocol.md §9). Before that, a front end does not read one, and an unsolicited
    /// reply would be taken as the answer to its next request.
    /// </summary>
    private bool WantsReplyAck(ReceivedMessage m) => m.Header.NeedsReply && HasProtocolFeature(ProtocolFeatures.ReplyAck);

    private static bool IsRefusal(Exception e) =>
        e is ProtocolException { IsFatal: false } or GuestMemoryException or VirtqueueException or IOException;

    /// <summary>The request switch: each case one line. Returns true if the handler replied itself.</summary>
    private bool Handle(ReceivedMessage m) => m.Request switch
    {
        FrontendRequest.GetFeatures => GetFeatures(m),
        FrontendRequest.SetFeatures => SetFeatures(m),
        FrontendRequest.SetOwner => SetOwner(m),
        FrontendRequest.ResetOwner => ResetOwner(m),
        FrontendRequest.SetMemTable => SetMemTable(m),
        FrontendRequest.SetVringNum => SetVringNum(m),
        FrontendRequest.SetVringAddr => SetVringAddr(m),
        FrontendRequest.SetVringBase => SetVringBase(m),
        FrontendRequest.GetVringBase => GetVringBase(m),
        FrontendRequest.SetVringKick => SetVringKick(m),
        FrontendRequest.SetVringCall => SetVringCall(m),
        FrontendRequest.SetVringErr => SetVringErr(m),
        FrontendRequest.GetProtocolFeatures => GetProtocolFeatures(m),
        FrontendRequest.SetProtocolFeatures => SetProtocolFeatures(m),
        FrontendRequest.GetQueueNum => GetQueueNum(m),
        FrontendRequest.SetVringEnable => SetVringEnable(m),
        FrontendRequest.SetBackendReqFd => SetBackendReqFd(m),
        FrontendRequest.GetConfig => GetConfig(m),
        FrontendRequest.SetConfig => SetConfig(m),
        FrontendRequest.ResetDevice => ResetDeviceRequest(m),
        FrontendRequest.GetMaxMemSlots => GetMaxMemSlots(m),
        FrontendRequest.AddMemReg => AddMemReg(m),
        FrontendRequest.RemMemReg => RemMemReg(m),
        FrontendRequest.SetStatus => SetStatus(m),
        FrontendRequest.GetInflightFd => GetInflightFd(m),
        FrontendRequest.SetInflightFd => SetInflightFd(m),
        FrontendRequest.GetStatus => GetStatus(m),
        _ => Unsupported(m),
    };

    /// <summary>
    /// Refuses a request this back end does not implement (or did not offer). Every code QEMU
    /// knows lands here rather than being ignored; the failure reply says so.
    /// </summary>
    private static bool Unsupported(ReceivedMessage m)
    {
        string what = Enum.IsDefined(m.Request) ? $"{m.Request} is not supported by this back end" : $"unknown request code {m.Header.Request}";
        throw new ProtocolException(Enum.IsDefined(m.Request) ? ProtocolError.Unsupported : ProtocolError.UnknownRequest, what);
    }

    /// <summary>
    /// Sends the failure form of the request's reply, or a failed reply-ack. Requests whose reply
    /// the spec always requires get it; the rest get a failed reply-ack only when one was asked
    /// for (<see cref="WantsReplyAck"/>). SET_LOG_BASE is one of the rest: its reply is required
    /// only with LOG_SHMFD, which is never offered, and QEMU reads none without it.
    /// </summary>
    private void SendFailure(ReceivedMessage m)
    {
        uint request = m.Header.Request;
        switch (m.Request)
        {
            case FrontendRequest.GetConfig:
                _connection.Reply(request, []); // a zero-size reply means failure (rst GET_CONFIG)
                break;
            case FrontendRequest.GetVringBase or FrontendRequest.GetVringBaseSkipDrain:
                _connection.Reply(request, new VringState(m.Header.Size >= 4 ? System.Runtime.InteropServices.MemoryMarshal.Read<uint>(m.Payload) : 0, 0));
                break;
            case FrontendRequest.GetInflightFd:
                _connection.Reply(request, new InflightRegion(0, 0, 0, 0, 0)); // mmap_size 0: no inflight area
                break;
            case FrontendRequest.GetShmemConfig:
                _connection.Reply(request, new byte[EmptyShmemConfigSize]); // nregions 0: no shared memory
                break;
            case FrontendRequest.GetFeatures or FrontendRequest.GetProtocolFeatures or FrontendRequest.GetQueueNum
                or FrontendRequest.GetMaxMemSlots or FrontendRequest.GetStatus or FrontendRequest.IotlbMsg
                or FrontendRequest.PostcopyAdvise or FrontendRequest.PostcopyListen
                or FrontendRequest.PostcopyEnd or FrontendRequest.SetDeviceStateFd or FrontendRequest.CheckDeviceState
                or FrontendRequest.GetSharedObject:
                _connection.Reply(request, new U64Payload(1));
                break;
            default:
                if (WantsReplyAck(m))
                {
                    _connection.Reply(request, new U64Payload(1));
                }
                break;
        }
    }

    private static void ExpectNoFds(ReceivedMessage m) => m.Fds.Expect(0, m.Request);

    private DeviceQueue GetQueue(uint index, FrontendRequest request)
    {
        if (index >= (uint)_queues.Length)
        {
            throw new ProtocolException(ProtocolError.InvalidQueueIndex,
                $"{request}: queue {index} does not exist (the device has {_queues.Length})");
        }
        return _queues[index];
    }
}
