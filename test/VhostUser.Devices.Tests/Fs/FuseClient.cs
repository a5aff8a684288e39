// FuseClient.cs — a minimal FUSE driver for tests: builds requests (fuse_in_header + arguments)
// in a fixed request buffer of the harness's guest memory, offers request + reply buffer on one
// queue, waits for the reply and decodes fuse_out_header. One request in flight per client.
using System.Runtime.InteropServices;
using System.Text;
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Frontend;
using VhostUser.Memory;

namespace VhostUser.Devices.Tests.Fs;

internal sealed class FuseClient
{
    public const uint BufferSize = (1 << 20) + 4096;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly DriverHarness _driver;
    private readonly DriverQueue _queue;
    private readonly int _queueIndex;
    private readonly GuestAddress _request;
    private readonly GuestAddress _reply;
    private ulong _unique;

    public FuseClient(DriverHarness driver, int queueIndex, DriverQueue queue)
    {
        _driver = driver;
        _queue = queue;
        _queueIndex = queueIndex;
        _request = driver.Memory.Allocate(BufferSize, 4096);
        _reply = driver.Memory.Allocate(BufferSize, 4096);
    }

    public uint Uid { get; set; }

    public uint Gid { get; set; }

    /// <summary>The unique the next request will carry (what an INTERRUPT for it names).</summary>
    public ulong NextUnique => _unique + 1;

    /// <summary>Sends one request; returns the errno (positive) and the reply payload.</summary>
    public (int Errno, byte[] Payload) Call(FuseOpcode opcode, ulong node, ReadOnlySpan<byte> args, uint replyCapacity = 64 * 1024)
    {
        var header = new FuseInHeader
        {
            Length = (uint)(FuseInHeader.Size + args.Length),
            Opcode = opcode,
            Unique = ++_unique,
            NodeId = node,
            Uid = Uid,
            Gid = Gid,
            Pid = 1,
        };
        var bytes = new byte[header.Length];
        MemoryMarshal.Write(bytes, in header);
        args.CopyTo(bytes.AsSpan(FuseInHeader.Size));
        return Send(bytes, replyCapacity, header.Unique);
    }

    /// <summary>Sends raw request bytes (hostile tests); returns the used length.</summary>
    public uint SendRaw(byte[] request, uint replyCapacity)
    {
        _driver.Memory.View.Write(_request, request);
        _queue.Offer(DriverBuffer.At(_request, (uint)request.Length, false), DriverBuffer.At(_reply, replyCapacity, true));
        _driver.Kick(_queueIndex);
        return _driver.WaitUsed(_queueIndex, Timeout).Length;
    }

    /// <summary>Sends raw request bytes; returns the reply bytes the device wrote (empty if none).</summary>
    public byte[] SendRawForReply(byte[] request, uint replyCapacity)
    {
        uint used = SendRaw(request, replyCapacity);
        var reply = new byte[Math.Min(used, replyCapacity)];
        _driver.Memory.View.Read(_reply, reply);
        return reply;
    }

    /// <summary>Sends a request that gets no reply (FORGET): the chain comes back with length 0.</summary>
    public void CallNoReply(FuseOpcode opcode, ulong node, ReadOnlySpan<byte> args)
    {
        var (errno, _) = Call(opcode, node, args, 0);
        Assert.Equal(-1, errno);
    }

    private (int, byte[]) Send(byte[] request, uint replyCapacity, ulong unique)
    {
        _driver.Memory.View.Write(_request, request);
        if (replyCapacity == 0)
        {
            _queue.Offer(DriverBuffer.At(_request, (uint)request.Length, false));
        }
        else
        {
            _queue.Offer(DriverBuffer.At(_request, (uint)request.Length, false), DriverBuffer.At(_reply, replyCapacity, true));
        }
        _driver.Kick(_queueIndex);
        var used = _driver.WaitUsed(_queueIndex, Timeout);
        if (used.Length == 0)
        {
            return (-1, []);
        }
        var reply = new byte[used.Length];
        _driver.Memory.View.Read(_reply, reply);
        var outHeader = MemoryMarshal.Read<FuseOutHeader>(reply);
        Assert.Equal(unique, outHeader.Unique);
        Assert.Equal(used.Length, outHeader.Length);
        return (-outHeader.Error, reply[FuseOutHeader.Size..]);
    }

    // ---- typed helpers -------------------------------------------------------------------------

    public FuseInitOut Init(uint minor = 41, FuseInitFlags flags = (FuseInitFlags)0xffff_ffff_ffff)
    {
        var init = new FuseInitIn { Major = 7, Minor = minor, MaxReadahead = 128 * 1024, Flags = (uint)flags | (uint)FuseInitFlags.InitExt, Flags2 = (uint)((ulong)flags >> 32) };
        var (errno, payload) = Call(FuseOpcode.Init, 0, Bytes(init));
        Assert.Equal(0, errno);
        return MemoryMarshal.Read<FuseInitOut>(payload);
    }

    public (int Errno, FuseEntryOut Entry) Lookup(ulong parent, string name) => Entry(Call(FuseOpcode.Lookup, parent, Name(name)));

    public (int Errno, FuseEntryOut Entry) MkDir(ulong parent, string name, uint mode = 0x41ed) =>
        Entry(Call(FuseOpcode.MkDir, parent, Concat(Bytes(new FuseMkDirIn { Mode = mode, Umask = 0 }), Name(name))));

    public (int Errno, FuseEntryOut Entry, FuseOpenOut Open) Create(ulong parent, string name, uint flags = 2 /* O_RDWR */, uint mode = 0x81a4)
    {
        var (errno, payload) = Call(FuseOpcode.Create, parent, Concat(Bytes(new FuseCreateIn { Flags = flags, Mode = mode }), Name(name)));
        return errno != 0 ? (errno, default, default) : (0, MemoryMarshal.Read<FuseEntryOut>(payload), MemoryMarshal.Read<FuseOpenOut>(payload.AsSpan(128)));
    }

    public (int Errno, ulong Handle) Open(ulong node, uint flags = 2, FuseOpcode opcode = FuseOpcode.Open)
    {
        var (errno, payload) = Call(opcode, node, Bytes(new FuseOpenIn { Flags = flags }));
        return errno != 0 ? (errno, 0) : (0, MemoryMarshal.Read<FuseOpenOut>(payload).Handle);
    }

    public (int Errno, uint Written) Write(ulong node, ulong handle, long offset, byte[] data)
    {
        var input = new FuseWriteIn { Handle = handle, Offset = (ulong)offset, Size = (uint)data.Length };
        var (errno, payload) = Call(FuseOpcode.Write, node, Concat(Bytes(input), data));
        return errno != 0 ? (errno, 0) : (0, MemoryMarshal.Read<FuseWriteOut>(payload).Size);
    }

    public (int Errno, byte[] Data) Read(ulong node, ulong handle, long offset, uint size)
    {
        var input = new FuseReadIn { Handle = handle, Offset = (ulong)offset, Size = size };
        return Call(FuseOpcode.Read, node, Bytes(input), size + 16);
    }

    public int Release(ulong node, ulong handle, FuseOpcode opcode = FuseOpcode.Release) =>
        Call(opcode, node, Bytes(new FuseReleaseIn { Handle = handle })).Errno;

    public (int Errno, FuseAttrOut Attr) GetAttr(ulong node)
    {
        var (errno, payload) = Call(FuseOpcode.GetAttr, node, Bytes(new FuseGetAttrIn()));
        return errno != 0 ? (errno, default) : (0, MemoryMarshal.Read<FuseAttrOut>(payload));
    }

    public (int Errno, FuseAttrOut Attr) SetAttr(ulong node, FuseSetAttrIn input)
    {
        var (errno, payload) = Call(FuseOpcode.SetAttr, node, Bytes(input));
        return errno != 0 ? (errno, default) : (0, MemoryMarshal.Read<FuseAttrOut>(payload));
    }

    /// <summary>All names of a directory (READDIR or READDIRPLUS until an empty reply).</summary>
    public List<(string Name, ulong NodeId)> ReadDir(ulong dirNode, bool plus = false, uint size = 4096)
    {
        var (errno, handle) = Open(dirNode, 0, FuseOpcode.OpenDir);
        Assert.Equal(0, errno);
        var names = new List<(string, ulong)>();
        long offset = 0;
        while (true)
        {
            var (e, data) = Call(plus ? FuseOpcode.ReadDirPlus : FuseOpcode.ReadDir, dirNode, Bytes(new FuseReadIn { Handle = handle, Offset = (ulong)offset, Size = size }), size + 16);
            Assert.Equal(0, e);
            if (data.Length == 0)
            {
                break;
            }
            int position = 0;
            int header = plus ? 152 : 24;
            while (position < data.Length)
            {
                ulong node = plus ? BitConverter.ToUInt64(data, position) : 0;
                var dirent = data.AsSpan(position + header - 24);
                offset = BitConverter.ToInt64(dirent[8..]);
                int nameLength = BitConverter.ToInt32(dirent[16..]);
                names.Add((Encoding.UTF8.GetString(dirent.Slice(24, nameLength)), node));
                position += (header + nameLength + 7) & ~7;
            }
        }
        Assert.Equal(0, Release(dirNode, handle, FuseOpcode.ReleaseDir));
        return names;
    }

    public static byte[] Name(string name) => Encoding.UTF8.GetBytes(name + "\0");

    public static byte[] Bytes<T>(T value)
        where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static (int, FuseEntryOut) Entry((int Errno, byte[] Payload) reply) =>
        reply.Errno != 0 ? (reply.Errno, default) : (0, MemoryMarshal.Read<FuseEntryOut>(reply.Payload));
}
