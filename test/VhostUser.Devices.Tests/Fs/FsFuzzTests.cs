// FsFuzzTests.cs — a hostile guest sends random FUSE requests: every opcode the daemon knows and
// some it does not, node ids and handles drawn from what earlier replies returned (so requests
// reach real inodes and open files), argument structs of random bytes and lengths, names that
// include "..", slashes and symlinks planted to point outside, header lengths that lie, and reply
// buffers from none to large. Whatever arrives, every reply must be a well-formed FUSE reply to
// that request, the daemon must go on serving, and nothing outside the shared directory changes.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CsCheck;
using VhostUser.Devices.Fs.Fuse;

namespace VhostUser.Devices.Tests.Fs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FsFuzzTests
{
    // SETLKW may rightly wait for ever on a lock a random owner holds, INIT and DESTROY restart
    // the session (covered by their own tests); everything else is fair game.
    private static readonly uint[] Opcodes = Enum.GetValues<FuseOpcode>()
        .Where(o => o is not (FuseOpcode.SetLkW or FuseOpcode.Init or FuseOpcode.Destroy))
        .Select(o => (uint)o).Concat([0u, 7u, 19u, 53u, 4096u, 0xFFFF_FFFFu]).ToArray();

    private static readonly string[] Names = ["a", "b", "dir", "esc", "rel", "..", ".", "a/b", "../outside", "/etc", "", "f\u00e9", new string('n', 300)];

    private static readonly uint[] Capacities = [0, 8, 16, 40, 200, 4096, 70000];

    private static readonly Gen<Request> GenRequest = Gen.Select(
        Gen.Int[0, Opcodes.Length - 1], Gen.Int[0, 1000], Gen.Byte.Array[0, 120], Gen.Int[0, 3], Gen.Int[0, Names.Length - 1],
        Gen.Int[0, Names.Length - 1], Gen.Int[0, 9], Gen.Int[0, Capacities.Length - 1],
        (op, pick, args, handleAt, name1, name2, lie, capacity) => new Request(Opcodes[op], pick, args, handleAt, name1, name2, lie, Capacities[capacity]));

    [Fact]
    public void RandomRequests_FromAHostileGuest_GetWellFormedRepliesAndStayInside()
    {
        GenRequest.Array[20, 120].Sample(requests =>
        {
            string outside = Directory.CreateTempSubdirectory("vhost-fs-fuzz-outside-").FullName;
            try
            {
                File.WriteAllText(Path.Combine(outside, "keep"), "outside");
                using var bed = new FsTestBed();
                File.WriteAllText(bed.HostPath("a"), "0123456789");
                Directory.CreateDirectory(bed.HostPath("dir"));
                File.CreateSymbolicLink(bed.HostPath("esc"), outside);
                File.CreateSymbolicLink(bed.HostPath("rel"), Path.Combine("..", Path.GetFileName(outside)));
                var snapshot = Snapshot(outside);
                new Session(bed).Run(requests);
                Assert.Equal(Errno.ENOENT, bed.Client.Lookup(FsTestBed.Root, "nothing-here").Errno);
                Assert.Equal(snapshot, Snapshot(outside));
            }
            finally
            {
                Directory.Delete(outside, recursive: true);
            }
        }, iter: 60, threads: 1);
    }

    private static string Snapshot(string directory) =>
        string.Join("\n", Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Order()
            .Select(p => $"{p} {File.GetUnixFileMode(p)} {File.GetLastWriteTimeUtc(p).Ticks} {(File.Exists(p) ? new FileInfo(p).Length : 0)}"))
        + $"\n{File.GetUnixFileMode(directory)} {Directory.GetLastWriteTimeUtc(directory).Ticks}";

    private sealed record Request(uint Opcode, int Pick, byte[] Args, int HandleAt, int Name1, int Name2, int Lie, uint Capacity)
    {
        public override string ToString() => $"op={Opcode} pick={Pick} args={Args.Length} handleAt={HandleAt} names={Name1},{Name2} lie={Lie} cap={Capacity}";
    }

    /// <summary>One connection's worth of requests, learning node ids and handles from replies.</summary>
    private sealed class Session(FsTestBed bed)
    {
        private readonly List<ulong> _values = [FsTestBed.Root, 0, ulong.MaxValue];
        private ulong _unique = 1000;

        public void Run(Request[] requests)
        {
            foreach (var request in requests)
            {
                Send(request);
            }
        }

        private ulong Pick(int pick) => pick < 900 ? _values[pick % _values.Count] : (ulong)pick * 0x9E37_79B9_7F4A_7C15UL;

        private void Send(Request r)
        {
            // Arguments: random bytes with a known node id or handle planted in a u64 slot (where
            // fuse_*_in structs keep fh / nodeid), then zero, one or two NUL-terminated names.
            byte[] args = (byte[])r.Args.Clone();
            int slot = r.HandleAt * 8;
            if (args.Length >= slot + 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(args.AsSpan(slot), Pick(r.Pick / 3));
            }
            byte[] names = r.Lie % 3 == 0 ? [] : FuseClient.Concat(FuseClient.Name(Names[r.Name1]), r.Lie % 3 == 2 ? FuseClient.Name(Names[r.Name2]) : []);
            byte[] body = FuseClient.Concat(args, names);
            uint length = (uint)(FuseInHeader.Size + body.Length);
            length = r.Lie switch
            {
                9 => length + 64,              // says more than it sends
                8 => length > 48 ? length - 7 : length, // says less
                7 => 0,
                _ => length,
            };
            ulong unique = ++_unique;
            var header = new FuseInHeader
            {
                Length = length,
                Opcode = (FuseOpcode)r.Opcode,
                Unique = unique,
                NodeId = Pick(r.Pick),
                Uid = 0,
                Gid = 0,
                Pid = 1,
                TotalExtLength = r.Lie == 6 ? (ushort)(r.Pick % 5) : (ushort)0,
            };
            byte[] request = new byte[FuseInHeader.Size + body.Length];
            MemoryMarshal.Write(request, in header);
            body.CopyTo(request.AsSpan(FuseInHeader.Size));

            byte[] reply = bed.Client.SendRawForReply(request, r.Capacity);
            if (reply.Length == 0)
            {
                return; // no reply: FORGET, INTERRUPT, a request too broken to answer, or no room
            }
            Assert.True(reply.Length >= FuseOutHeader.Size, $"{r}: a {reply.Length}-byte reply");
            var outHeader = MemoryMarshal.Read<FuseOutHeader>(reply);
            Assert.Equal((uint)reply.Length, outHeader.Length);
            Assert.True(outHeader.Unique == unique, $"{r}: reply to {outHeader.Unique}, not {unique}");
            Assert.InRange(outHeader.Error, -4095, 0);
            if (outHeader.Error != 0)
            {
                Assert.Equal(FuseOutHeader.Size, reply.Length);
                return;
            }
            // Learn node ids (entry_out starts with one) and handles (open_out, or after entry_out for CREATE).
            if (reply.Length >= FuseOutHeader.Size + 8)
            {
                _values.Add(BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(FuseOutHeader.Size)));
            }
            int afterEntry = FuseOutHeader.Size + Marshal.SizeOf<FuseEntryOut>();
            if (r.Opcode == (uint)FuseOpcode.Create && reply.Length >= afterEntry + 8)
            {
                _values.Add(BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(afterEntry)));
            }
        }
    }
}
