// Workloads.cs — what one measurement does on each request queue, one driver thread per queue,
// --depth requests in flight per queue:
//   stat      LOOKUP of an existing name (what stat() costs the daemon with a cold dentry cache)
//   create    CREATE of a new name, then RELEASE of its handle (counted once per file)
//   unlink    UNLINK of the names the create run left
//   randread  4 KiB READs at random 4 KiB-aligned offsets of a 256 MiB file (host page cache warm)
//   seqread   1 MiB READs walking the 256 MiB file
//   seqwrite  1 MiB WRITEs walking a 256 MiB file
using System.Buffers.Binary;

namespace VhostUser.FsBench;

internal static class Workloads
{
    public const long DataFileSize = 256L << 20;

    public static readonly string[] All = ["stat", "create", "unlink", "randread", "seqread", "seqwrite"];

    /// <summary>Runs <paramref name="name"/> on queue <paramref name="q"/> until <paramref name="until"/>; returns operations done.</summary>
    public static long Run(string name, FsSession session, int q, DateTime until, string runId)
    {
        var queue = session.Queues[q];
        return name switch
        {
            "stat" => Stat(session, queue, until),
            "create" => Create(session, q, until, $"{runId}-q{q}"),
            "unlink" => Unlink(session, queue, until, $"{runId}-q{q}"),
            "randread" => ReadWrite(session, queue, until, 4096, random: true, write: false, q),
            "seqread" => ReadWrite(session, queue, until, 1 << 20, random: false, write: false, q),
            "seqwrite" => ReadWrite(session, queue, until, 1 << 20, random: false, write: true, q),
            _ => throw new ArgumentException($"unknown workload {name}"),
        };
    }

    /// <summary>Bytes per operation (0 for metadata workloads).</summary>
    public static int BlockSize(string name) => name switch { "randread" => 4096, "seqread" or "seqwrite" => 1 << 20, _ => 0 };

    private static long Stat(FsSession session, FsQueue queue, DateTime until)
    {
        var name = FuseWire.Name("data");
        return queue.Run((_, request) => (FuseWire.Request(request, FuseWire.Lookup, session.NextUnique(), 1, name), 256),
            (_, reply) => Check(reply, "LOOKUP"), until);
    }

    private static long Create(FsSession session, int q, DateTime until, string prefix)
    {
        var queue = session.Queues[q];
        // Per slot: CREATE → RELEASE → FORGET (as the guest kernel does once it drops the inode,
        // so neither daemon runs out of fds) → next CREATE. Counted once per file.
        var handles = new ulong[queue.Depth];
        var nodes = new ulong[queue.Depth];
        var forget = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(forget, 1);
        long next = 0, created = 0;
        queue.Run((slot, request) =>
        {
            if (handles[slot] != 0)
            {
                ulong handle = handles[slot];
                handles[slot] = 0;
                return (FuseWire.Request(request, FuseWire.Release, session.NextUnique(), nodes[slot], FuseWire.ReleaseArgs(handle)), 64);
            }
            if (nodes[slot] != 0)
            {
                ulong node = nodes[slot];
                nodes[slot] = 0;
                return (FuseWire.Request(request, FuseWire.Forget, session.NextUnique(), node, forget), 0);
            }
            return (FuseWire.Request(request, FuseWire.Create, session.NextUnique(), 1, FuseWire.CreateArgs($"{prefix}-{next++}")), 256);
        }, (slot, reply) =>
        {
            if (reply.IsEmpty)
            {
                return true; // FORGET: no reply
            }
            Check(reply, "CREATE/RELEASE");
            if (reply.Length > FuseWire.OutHeader + 128)
            {
                nodes[slot] = BinaryPrimitives.ReadUInt64LittleEndian(reply[FuseWire.OutHeader..]);
                handles[slot] = BinaryPrimitives.ReadUInt64LittleEndian(reply[(FuseWire.OutHeader + 128)..]);
                created++;
            }
            return true;
        }, until);
        // Finish the releases still owed (the run stops refilling at the deadline).
        for (int slot = 0; slot < handles.Length; slot++)
        {
            if (handles[slot] != 0)
            {
                session.Call(q, FuseWire.Release, nodes[slot], FuseWire.ReleaseArgs(handles[slot]));
            }
        }
        File.WriteAllText(CountFile(prefix), created.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return created;
    }

    private static long Unlink(FsSession session, FsQueue queue, DateTime until, string prefix)
    {
        string createPrefix = prefix.Replace("unlink", "create", StringComparison.Ordinal);
        long total = long.Parse(File.ReadAllText(CountFile(createPrefix)), System.Globalization.CultureInfo.InvariantCulture);
        long next = 0;
        return queue.Run((_, request) => (FuseWire.Request(request, FuseWire.Unlink, session.NextUnique(), 1, FuseWire.Name($"{createPrefix}-{next++}")), 64),
            (_, reply) => Check(reply, "UNLINK") && next < total, DateTime.MaxValue);
    }

    private static long ReadWrite(FsSession session, FsQueue queue, DateTime until, int size, bool random, bool write, int q)
    {
        ulong node = session.Lookup(q, write ? $"write-{q}" : "data");
        ulong handle = session.Open(q, node, write ? 2u : 0u);
        var rng = new Random(q);
        long offset = 0;
        var args = new byte[40];
        long done = queue.Run((_, request) =>
        {
            long at = random ? rng.NextInt64(DataFileSize / size) * size : offset;
            offset = (offset + size) % DataFileSize;
            FuseWire.ReadWriteArgs(args, handle, at, size);
            if (write)
            {
                return (FuseWire.Request(request, FuseWire.Write, session.NextUnique(), node, args, extra: size), 64);
            }
            return (FuseWire.Request(request, FuseWire.Read, session.NextUnique(), node, args), size + FuseWire.OutHeader);
        }, (_, reply) => Check(reply, write ? "WRITE" : "READ") && (write || reply.Length == size + FuseWire.OutHeader), until);
        session.Call(q, FuseWire.Release, node, FuseWire.ReleaseArgs(handle));
        return done;
    }

    private static bool Check(ReadOnlySpan<byte> reply, string what)
    {
        int errno = FuseWire.Error(reply);
        return errno == 0 ? true : throw new InvalidOperationException($"{what} failed: errno {errno}");
    }

    private static string CountFile(string prefix) => Path.Combine(Path.GetTempPath(), $"vhost-fs-bench-{prefix}.count");
}
