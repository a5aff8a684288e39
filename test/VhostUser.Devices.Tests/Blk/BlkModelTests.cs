// BlkModelTests.cs — random request sequences against a model disk (a byte array): reads, writes
// split into random descriptor pieces (the header sometimes sharing the first piece), discards,
// write-zeroes with and without UNMAP, flushes, GET_ID and unknown types, at sectors and lengths
// that are sometimes unaligned or past the end. Every request must get the status the model
// predicts, reads must return exactly the model's bytes, and after the run the image file must
// equal the model: no lost, misplaced or partial write, under both engines, both ring kinds and
// 512- and 4096-byte logical blocks.
using CsCheck;
using VhostUser.Devices.Blk;
using VhostUser.Frontend;

namespace VhostUser.Devices.Tests.Blk;

public sealed class BlkModelTests
{
    private const int Sectors = 256; // a 128 KiB disk

    private static readonly Gen<Op> GenOp = Gen.Select(
        Gen.Frequency((5, Gen.Const(BlkRequestType.Out)), (4, Gen.Const(BlkRequestType.In)), (1, Gen.Const(BlkRequestType.Discard)),
            (2, Gen.Const(BlkRequestType.WriteZeroes)), (1, Gen.Const(BlkRequestType.Flush)), (1, Gen.Const(BlkRequestType.GetId)),
            (1, Gen.UInt[14, 1000])),
        Gen.Frequency((6, Gen.Int[0, Sectors / 8 - 1].Select(b => b * 8)), (1, Gen.Int[0, Sectors + 16])),
        Gen.Frequency((6, Gen.Int[1, 8].Select(b => b * 4096)), (1, Gen.Int[1, 20000])),
        Gen.Int[1, 4], Gen.Bool, Gen.UInt[0, 2], Gen.Int,
        (type, sector, length, pieces, merge, flags, seed) => new Op(type, (ulong)sector, length, pieces, merge, flags, seed));

    public static TheoryData<string, bool, int> Configurations => new()
    {
        { "uring", false, 512 }, { "uring", true, 4096 }, { "threads", true, 512 }, { "threads", false, 4096 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void RandomRequests_AgainstAModelDisk_StatusesDataAndImageAgree(string engine, bool packed, int blockSize)
    {
        GenOp.Array[10, 40].Sample(ops =>
        {
            using var bed = new BlkTestBed(size: Sectors * 512, packed: packed, engine: engine, logicalBlockSize: blockSize, ringSize: 64);
            var model = new byte[Sectors * 512];
            foreach (var op in ops)
            {
                Apply(bed, model, op, blockSize);
            }
            Assert.Equal(model, bed.ReadImage(0, model.Length));
        }, iter: 40, threads: 1);
    }

    private static void Apply(BlkTestBed bed, byte[] model, Op op, int blockSize)
    {
        bool inRange(ulong sector, long bytes) =>
            sector % (ulong)(blockSize / 512) == 0 && bytes % blockSize == 0 && sector <= Sectors && (ulong)bytes / 512 <= Sectors - sector;
        switch (op.Type)
        {
            case BlkRequestType.Out:
            {
                var data = BlkTestBed.Pattern(op.Length, op.Seed);
                byte status = bed.Submit(0, [.. WriteChain(op, data)])[^1];
                bool valid = inRange(op.Sector, op.Length);
                Assert.Equal(valid ? BlkStatus.Ok : BlkStatus.IoError, status);
                if (valid)
                {
                    data.CopyTo(model.AsSpan((int)op.Sector * 512));
                }
                break;
            }
            case BlkRequestType.In:
            {
                var buffers = new List<DriverBuffer> { DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.In, op.Sector)) };
                foreach (int piece in Split(op.Length, op.Pieces))
                {
                    buffers.Add(DriverBuffer.Writable((uint)piece));
                }
                buffers.Add(DriverBuffer.Writable(1));
                var written = bed.Submit(0, [.. buffers]);
                bool valid = inRange(op.Sector, op.Length);
                Assert.Equal(valid ? BlkStatus.Ok : BlkStatus.IoError, written[^1]);
                if (valid)
                {
                    Assert.Equal(model.AsSpan((int)op.Sector * 512, op.Length).ToArray(), written[..^1]);
                }
                break;
            }
            case BlkRequestType.Discard or BlkRequestType.WriteZeroes:
            {
                uint count = (uint)(op.Length / 512);
                uint flags = op.Flags == 2 ? 4u : op.Flags; // 1: UNMAP, 4: reserved
                byte status = bed.Simple(op.Type, payload: BlkTestBed.Segment(op.Sector, count, flags));
                bool flagsOk = flags == 0 || (flags == 1 && op.Type == BlkRequestType.WriteZeroes);
                bool valid = flagsOk && inRange(op.Sector, (long)count * 512);
                Assert.Equal(!flagsOk ? BlkStatus.Unsupported : valid ? BlkStatus.Ok : BlkStatus.IoError, status);
                if (valid)
                {
                    model.AsSpan((int)op.Sector * 512, (int)count * 512).Clear();
                }
                break;
            }
            case BlkRequestType.Flush:
                Assert.Equal(BlkStatus.Ok, bed.Simple(BlkRequestType.Flush));
                break;
            case BlkRequestType.GetId:
            {
                var written = bed.Submit(0, DriverBuffer.Readable(BlkTestBed.Header(BlkRequestType.GetId, 0)), DriverBuffer.Writable(20), DriverBuffer.Writable(1));
                Assert.Equal(BlkStatus.Ok, written[^1]);
                Assert.Equal(bed.Device.Serial, written[..20]);
                break;
            }
            default:
                Assert.Equal(BlkStatus.Unsupported, bed.Simple(op.Type, op.Sector));
                break;
        }
    }

    /// <summary>An OUT chain: the header alone or sharing the first piece, the data in pieces, the status byte.</summary>
    private static List<DriverBuffer> WriteChain(Op op, byte[] data)
    {
        var header = BlkTestBed.Header(BlkRequestType.Out, op.Sector);
        var buffers = new List<DriverBuffer>();
        int at = 0;
        foreach (int piece in Split(data.Length, op.Pieces))
        {
            var slice = data.AsMemory(at, piece);
            buffers.Add(at == 0 && op.Merge ? DriverBuffer.Readable(header.Concat(slice.ToArray()).ToArray()) : DriverBuffer.Readable(slice));
            at += piece;
        }
        if (!op.Merge)
        {
            buffers.Insert(0, DriverBuffer.Readable(header));
        }
        buffers.Add(DriverBuffer.Writable(1));
        return buffers;
    }

    /// <summary>Splits <paramref name="length"/> into up to <paramref name="pieces"/> uneven non-empty pieces.</summary>
    private static IEnumerable<int> Split(int length, int pieces)
    {
        int left = length;
        for (int i = pieces; i > 1 && left > 1; i--)
        {
            int piece = Math.Max(1, left / i + (i * 37 % 113)) % left;
            piece = piece == 0 ? 1 : piece;
            yield return piece;
            left -= piece;
        }
        yield return left;
    }

    public sealed record Op(uint Type, ulong Sector, int Length, int Pieces, bool Merge, uint Flags, int Seed)
    {
        public override string ToString() => $"type={Type} sector={Sector} length={Length} pieces={Pieces} merge={Merge} flags={Flags}";
    }
}
