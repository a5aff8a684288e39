// HostileSession.cs — the state a hostile-table row starts from: a daemon serving a two-queue
// device with a 16-byte config space, negotiated with every protocol feature it offers (so
// REPLY_ACK is on), split-ring features acknowledged, 1 MiB of RAM sent with SET_MEM_TABLE, and a
// split ring of 8 laid out for queue 0 but not started. Rows add their own setup through the
// typed front end, then send one raw message.
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Infrastructure;

internal sealed class HostileSession : IDisposable
{
    public const VirtioFeatures SplitFeatures = VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc | VirtioFeatures.EventIdx | VirtioFeatures.ProtocolFeatures;

    private readonly List<IDisposable> _owned = [];

    public HostileSession()
    {
        Pair = new BackendPair(new FakeDevice(queueCount: 2, configSize: 16));
        Pair.Frontend.Negotiate();
        Pair.Frontend.SetFeatures(SplitFeatures);
        Memory = SharedGuestMemory.Create(1 << 20);
        Pair.Frontend.SetMemTable(Memory);
        Ring = DriverQueue.Create(Memory, 8, SplitFeatures & ~VirtioFeatures.ProtocolFeatures);
    }

    public BackendPair Pair { get; }

    public VhostUserFrontend Frontend => Pair.Frontend;

    public SharedGuestMemory Memory { get; }

    /// <summary>A split ring of 8 in <see cref="Memory"/>, not started.</summary>
    public DriverQueue Ring { get; }

    /// <summary>SET_VRING_ADDR payload for <see cref="Ring"/> on queue 0.</summary>
    public VringAddress RingAddress => new(0, 0, Ring.UserAddresses.Descriptors, Ring.UserAddresses.DeviceArea, Ring.UserAddresses.DriverArea, 0);

    /// <summary>Eventfds to attach to a message (owned by the session).</summary>
    public FileDescriptor[] EventFds(int count)
    {
        var fds = new FileDescriptor[count];
        for (int i = 0; i < count; i++)
        {
            var fd = EventFd.Create();
            _owned.Add(fd);
            fds[i] = fd.Descriptor;
        }
        return fds;
    }

    /// <summary>A memfd of <paramref name="size"/> bytes (owned by the session).</summary>
    public FileDescriptor MemFd(long size)
    {
        var fd = Unix.MemFd.Create("hostile", size);
        _owned.Add(fd);
        return fd;
    }

    /// <summary>/dev/null opened read-only: an fd nothing can be signalled through (owned by the session).</summary>
    public FileDescriptor ReadOnlyFd()
    {
        var fd = FileDescriptor.OpenRead("/dev/null");
        _owned.Add(fd);
        return fd;
    }

    /// <summary>One end of a socketpair (both owned by the session).</summary>
    public FileDescriptor SocketFd()
    {
        var (first, second) = UnixSocket.SocketPair();
        _owned.Add(first);
        _owned.Add(second);
        return first.Descriptor;
    }

    /// <summary>SET_VRING_NUM 8 and SET_VRING_ADDR for queue 0, as QEMU sends them before the kick.</summary>
    public void ConfigureRing(int size = 8)
    {
        Frontend.SetVringNum(0, size);
        Frontend.SetVringAddr(0, Ring.UserAddresses);
    }

    /// <summary>Queue 0 fully started (NUM, BASE, ADDR, CALL, KICK, ENABLE).</summary>
    public void StartRing()
    {
        var kick = EventFd.Create();
        var call = EventFd.Create();
        _owned.Add(kick);
        _owned.Add(call);
        Frontend.StartQueue(0, Ring, kick, call);
    }

    /// <summary>Sends <paramref name="request"/> with NEED_REPLY, <paramref name="payload"/> and <paramref name="fds"/>.</summary>
    public void Send(FrontendRequest request, byte[] payload, params FileDescriptor[] fds) =>
        Raw.Send(Frontend, request, payload, needReply: true, fds);

    public void Dispose()
    {
        Pair.Dispose();
        foreach (var item in _owned)
        {
            item.Dispose();
        }
        Memory.Dispose();
    }
}
