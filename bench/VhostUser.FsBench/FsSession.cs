// FsSession.cs — one connection to a virtio-fs back end set up as QEMU sets up vhost-user-fs:
// negotiate, SET_FEATURES, SET_MEM_TABLE with memfd guest RAM, then start the hiprio queue and N
// request queues; then FUSE INIT on request queue 1.
using System.Buffers.Binary;
using VhostUser.Frontend;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.FsBench;

internal sealed class FsSession : IDisposable
{
    private readonly VhostUserFrontend _frontend;
    private readonly SharedGuestMemory _memory;
    private ulong _unique;

    private FsSession(VhostUserFrontend frontend, SharedGuestMemory memory, List<FsQueue> queues)
    {
        _frontend = frontend;
        _memory = memory;
        Queues = queues;
    }

    /// <summary>Queue 0 is hiprio, 1..N carry requests.</summary>
    public IReadOnlyList<FsQueue> Queues { get; }

    public ulong NextUnique() => Interlocked.Increment(ref _unique);

    public static FsSession Open(string socketPath, int requestQueues, int depth)
    {
        var socket = UnixSocket.Connect(socketPath);
        socket.SetTimeout(TimeSpan.FromSeconds(30));
        var frontend = new VhostUserFrontend(socket);
        var negotiated = frontend.Negotiate();
        var features = negotiated.Features & (VirtioFeatures.Version1 | VirtioFeatures.EventIdx | VirtioFeatures.ProtocolFeatures);
        frontend.SetFeatures(features);
        ulong size = (ulong)(requestQueues + 1) * (ulong)depth * 2 * FsQueue.BufferSize + (16UL << 20);
        var memory = SharedGuestMemory.Create((size + (2 << 20) - 1) & ~((2UL << 20) - 1));
        frontend.SetMemTable(memory);
        var queues = new List<FsQueue>();
        for (int i = 0; i <= requestQueues; i++)
        {
            var queue = new FsQueue(memory, DriverQueue.Create(memory, 128, features & ~VirtioFeatures.ProtocolFeatures), i == 0 ? 1 : depth);
            frontend.StartQueue(i, queue.Driver, queue.Kick, queue.Call);
            queues.Add(queue);
        }
        var session = new FsSession(frontend, memory, queues);
        var init = new byte[FuseWire.InHeader + 64];
        int length = FuseWire.Request(init, FuseWire.Init, session.NextUnique(), 0, FuseWire.InitArgs());
        var reply = queues[1].CallOnce(init[..length], 4096);
        if (FuseWire.Error(reply) != 0)
        {
            throw new InvalidOperationException($"INIT failed: errno {FuseWire.Error(reply)}");
        }
        return session;
    }

    /// <summary>A synchronous request on request queue <paramref name="q"/> (only from that queue's thread): (errno, payload).</summary>
    public (int Errno, byte[] Payload) Call(int q, uint opcode, ulong node, byte[] args, int replyCapacity = 4096)
    {
        var request = new byte[FuseWire.InHeader + args.Length];
        FuseWire.Request(request, opcode, NextUnique(), node, args);
        var reply = Queues[q].CallOnce(request, replyCapacity);
        return (FuseWire.Error(reply), reply[FuseWire.OutHeader..]);
    }

    /// <summary>LOOKUP → node id.</summary>
    public ulong Lookup(int q, string name)
    {
        var (errno, payload) = Call(q, FuseWire.Lookup, 1, FuseWire.Name(name));
        return errno == 0 ? BinaryPrimitives.ReadUInt64LittleEndian(payload) : throw new InvalidOperationException($"LOOKUP {name}: errno {errno}");
    }

    /// <summary>OPEN → file handle.</summary>
    public ulong Open(int q, ulong node, uint flags)
    {
        var (errno, payload) = Call(q, FuseWire.Open, node, FuseWire.OpenArgs(flags));
        return errno == 0 ? BinaryPrimitives.ReadUInt64LittleEndian(payload) : throw new InvalidOperationException($"OPEN: errno {errno}");
    }

    public void Dispose()
    {
        foreach (var queue in Queues)
        {
            queue.Dispose();
        }
        _frontend.Dispose();
        _memory.Dispose();
    }
}
