// FuseServer.cs — FUSE over virtio (virtio spec 5.11.6; devices.md §5.2): one request per chain,
// R part = fuse_in_header + arguments (+ write data), W part = fuse_out_header + reply (+ read
// data). Parses and checks each request, calls the IFileSystem, writes the reply. Knows nothing
// of vhost-user: the device hands it chains.
//
// Session (fuse.h "Version negotiation"): nothing but INIT is served before INIT; a later INIT or
// DESTROY ends the session and drops every inode and handle. We speak 7.x up to MaxMinor.
//
// Threading: Handle runs on several threads at once (one per request queue, plus the pool); the
// per-request scratch buffers are per thread, the session fields are written only by INIT.
using VhostUser.Memory;
using VhostUser.Virtio;

namespace VhostUser.Devices.Fs.Fuse;

/// <summary>The FUSE request handler.</summary>
internal sealed partial class FuseServer
{
    /// <summary>Highest protocol minor we speak (7.41: Linux 6.12 sends 7.41).</summary>
    public const uint MaxMinor = 41;

    /// <summary>Largest READ/WRITE payload offered (max_write; 256 pages as virtiofsd).</summary>
    public const int MaxTransfer = 1 << 20;

    private const int ScratchSize = 2 * (64 * 1024 + 4096); // a 64 KiB xattr value plus its name, twice

    [ThreadStatic]
    private static byte[]? t_scratch;

    [ThreadStatic]
    private static Unix.IoVectorArray? t_vectors;

    private readonly IFileSystem _fs;
    private volatile bool _initialized;
    private uint _minor;

    public FuseServer(IFileSystem fs) => _fs = fs;

    /// <summary>The negotiated INIT flags (after INIT).</summary>
    public FuseInitFlags Negotiated { get; private set; }

    /// <summary>Serves one request chain on its queue worker; returns the bytes written (0: no reply, e.g. FORGET).</summary>
    public uint Handle(in DescriptorChain chain)
    {
        var reader = chain.CreateReader();
        var writer = chain.CreateWriter();
        return Serve(chain, chain.Queue.Memory, ref reader, ref writer);
    }

    /// <summary>Serves one request chain over a leased memory snapshot (off the queue worker).</summary>
    public uint Handle(in DescriptorChain chain, GuestMemory memory)
    {
        var reader = chain.CreateReader(memory);
        var writer = chain.CreateWriter(memory);
        return Serve(chain, memory, ref reader, ref writer);
    }

    private uint Serve(in DescriptorChain chain, GuestMemory memory, ref ChainReader reader, ref ChainWriter writer)
    {
        if (!reader.TryRead(out FuseInHeader header))
        {
            return 0; // no header, no unique to answer: give the buffer back empty
        }
        // Bytes of arguments after the header, as the driver announced them (bounded by what the chain holds).
        uint declared = header.Length >= FuseInHeader.Size ? header.Length - FuseInHeader.Size : 0;
        uint argLength = Math.Min(declared, reader.Remaining);
        uint extLength = (uint)header.TotalExtLength * 8;
        argLength = argLength >= extLength ? argLength - extLength : 0;
        var request = new Request(header, argLength, chain, memory);
        if (!_initialized && header.Opcode != FuseOpcode.Init)
        {
            return header.Opcode is FuseOpcode.Forget or FuseOpcode.BatchForget ? 0 : Error(ref writer, request, Errno.EIO);
        }
        return Dispatch(ref request, ref reader, ref writer);
    }

    private uint Dispatch(ref Request q, ref ChainReader r, ref ChainWriter w) => q.Header.Opcode switch
    {
        FuseOpcode.Init => Init(ref q, ref r, ref w),
        FuseOpcode.Destroy => Destroy(ref q, ref w),
        FuseOpcode.Lookup => Lookup(ref q, ref r, ref w),
        FuseOpcode.Forget => Forget(ref q, ref r),
        FuseOpcode.BatchForget => BatchForget(ref q, ref r),
        FuseOpcode.GetAttr => GetAttr(ref q, ref r, ref w),
        FuseOpcode.SetAttr => SetAttr(ref q, ref r, ref w),
        FuseOpcode.ReadLink => ReadLink(ref q, ref w),
        FuseOpcode.Symlink => Symlink(ref q, ref r, ref w),
        FuseOpcode.MkNod => MkNod(ref q, ref r, ref w),
        FuseOpcode.MkDir => MkDir(ref q, ref r, ref w),
        FuseOpcode.Unlink => Unlink(ref q, ref r, ref w, directory: false),
        FuseOpcode.RmDir => Unlink(ref q, ref r, ref w, directory: true),
        FuseOpcode.Rename => Rename(ref q, ref r, ref w, rename2: false),
        FuseOpcode.Rename2 => Rename(ref q, ref r, ref w, rename2: true),
        FuseOpcode.Link => Link(ref q, ref r, ref w),
        FuseOpcode.Open => Open(ref q, ref r, ref w, directory: false),
        FuseOpcode.OpenDir => Open(ref q, ref r, ref w, directory: true),
        FuseOpcode.Read => Read(ref q, ref r, ref w),
        FuseOpcode.Write => Write(ref q, ref r, ref w),
        FuseOpcode.StatFs => StatFs(ref q, ref w),
        FuseOpcode.Release => Release(ref q, ref r, ref w, directory: false),
        FuseOpcode.ReleaseDir => Release(ref q, ref r, ref w, directory: true),
        FuseOpcode.Flush => Flush(ref q, ref r, ref w),
        FuseOpcode.Fsync => Fsync(ref q, ref r, ref w, directory: false),
        FuseOpcode.FsyncDir => Fsync(ref q, ref r, ref w, directory: true),
        FuseOpcode.SetXattr => SetXattr(ref q, ref r, ref w),
        FuseOpcode.GetXattr => GetXattr(ref q, ref r, ref w),
        FuseOpcode.ListXattr => ListXattr(ref q, ref r, ref w),
        FuseOpcode.RemoveXattr => RemoveXattr(ref q, ref r, ref w),
        FuseOpcode.ReadDir => ReadDir(ref q, ref r, ref w, plus: false),
        FuseOpcode.ReadDirPlus => ReadDir(ref q, ref r, ref w, plus: true),
        FuseOpcode.Access => Access(ref q, ref r, ref w),
        FuseOpcode.Create => Create(ref q, ref r, ref w),
        FuseOpcode.TmpFile => TmpFile(ref q, ref r, ref w),
        FuseOpcode.Interrupt => Interrupt(ref r),
        FuseOpcode.Fallocate => Fallocate(ref q, ref r, ref w),
        FuseOpcode.Lseek => Lseek(ref q, ref r, ref w),
        FuseOpcode.CopyFileRange => CopyFileRange(ref q, ref r, ref w),
        FuseOpcode.SyncFs => SyncFs(ref q, ref w),
        FuseOpcode.GetLk => GetLk(ref q, ref r, ref w),
        FuseOpcode.SetLk => SetLk(ref q, ref r, ref w),
        FuseOpcode.SetLkW => SetLk(ref q, ref r, ref w), // waits happen in LockWaiter; here one attempt, never a wait on a queue thread
        FuseOpcode.Ioctl => Ioctl(ref q, ref r, ref w),
        _ => Error(ref w, q, Errno.ENOSYS),
    };

    private uint Init(ref Request q, ref ChainReader r, ref ChainWriter w)
    {
        // fuse_init_in grew over time; read what the driver sent (at least major/minor/readahead/flags).
        var init = default(FuseInitIn);
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new Span<FuseInitIn>(ref init));
        int length = (int)Math.Min(q.ArgLength, (uint)bytes.Length);
        if (length < FuseInitIn.CompatSize || r.Read(bytes[..length]) != length)
        {
            return Error(ref w, q, Errno.EINVAL);
        }
        if (_initialized)
        {
            EndSession(); // a new INIT starts a new session (devices.md §5.2)
        }
        var reply = new FuseInitOut { Major = 7, Minor = MaxMinor };
        if (init.Major < 7)
        {
            return Error(ref w, q, Errno.EPROTO);
        }
        if (init.Major > 7)
        {
            return Reply(ref w, q, reply); // tell the driver our major; it retries with 7
        }
        ulong kernelFlags = init.Flags;
        if ((kernelFlags & (ulong)FuseInitFlags.InitExt) != 0)
        {
            kernelFlags |= (ulong)init.Flags2 << 32;
        }
        var negotiated = _fs.Init((FuseInitFlags)kernelFlags) & (FuseInitFlags)kernelFlags;
        _minor = Math.Min(init.Minor, MaxMinor);
        Negotiated = negotiated;
        reply.Minor = _minor;
        reply.MaxReadahead = init.MaxReadahead;
        reply.Flags = (uint)negotiated | (uint)FuseInitFlags.InitExt & init.Flags;
        reply.Flags2 = (uint)((ulong)negotiated >> 32);
        reply.MaxBackground = ushort.MaxValue;
        reply.CongestionThreshold = (ushort)(ushort.MaxValue * 3 / 4);
        reply.MaxWrite = MaxTransfer;
        reply.TimeGranularity = 1;
        reply.MaxPages = MaxTransfer / 4096;
        _initialized = true;
        return Reply(ref w, q, reply);
    }

    private uint Destroy(ref Request q, ref ChainWriter w)
    {
        EndSession();
        return Reply(ref w, q);
    }

    /// <summary>Ends the session: every inode and handle goes (DESTROY, new INIT, reset, disconnect).</summary>
    public void EndSession()
    {
        _initialized = false;
        _fs.Destroy();
    }

    /// <summary>Per-thread scratch for names, xattr values and directory listings.</summary>
    private static byte[] Scratch => t_scratch ??= new byte[ScratchSize];

    /// <summary>Copies the request's remaining argument bytes (names, values) into scratch.</summary>
    private static bool TryReadRest(ref Request q, ref ChainReader r, uint consumed, out ReadOnlySpan<byte> rest)
    {
        uint left = q.ArgLength >= consumed ? q.ArgLength - consumed : 0;
        var scratch = Scratch;
        if (left > scratch.Length / 2)
        {
            rest = default;
            return false;
        }
        var span = scratch.AsSpan(0, (int)left);
        int read = r.Read(span);
        rest = span[..read];
        return read == left;
    }

    private static uint Reply(ref ChainWriter w, in Request q) => ReplyWith(ref w, q, ReadOnlySpan<byte>.Empty);

    private static uint Reply<T>(ref ChainWriter w, in Request q, in T payload)
        where T : unmanaged =>
        ReplyWith(ref w, q, System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)));

    private static uint ReplyWith(ref ChainWriter w, in Request q, scoped ReadOnlySpan<byte> payload)
    {
        var header = new FuseOutHeader { Length = (uint)(FuseOutHeader.Size + payload.Length), Unique = q.Header.Unique };
        if (w.Remaining < header.Length)
        {
            return Error(ref w, q, Errno.ERANGE);
        }
        w.TryWrite(header);
        w.Write(payload);
        return w.BytesWritten;
    }

    private static uint Error(ref ChainWriter w, in Request q, int errno)
    {
        var header = new FuseOutHeader { Length = FuseOutHeader.Size, Error = -errno, Unique = q.Header.Unique };
        return w.TryWrite(header) ? w.BytesWritten : 0;
    }

    private static uint Status(ref ChainWriter w, in Request q, int errno) => errno == 0 ? Reply(ref w, q) : Error(ref w, q, errno);

    /// <summary>The parsed header and the length of the arguments after it.</summary>
    private readonly record struct Request(FuseInHeader Header, uint ArgLength, DescriptorChain Chain, GuestMemory Memory)
    {
        public RequestContext Context => new(Header.Uid, Header.Gid, Header.Pid);

        public ulong Node => Header.NodeId;
    }
}
