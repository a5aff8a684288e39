// FuseWire.cs — the few FUSE requests the bench sends, encoded from Linux uapi fuse.h layouts
// (written independently of the daemon's own structs, so the bench also checks the wire format).
using System.Buffers.Binary;
using System.Text;

namespace VhostUser.FsBench;

internal static class FuseWire
{
    public const uint Lookup = 1, Forget = 2, GetAttr = 3, Open = 14, Read = 15, Write = 16, Release = 18, Init = 26, Create = 35, Unlink = 10, BatchForget = 42;
    public const int InHeader = 40, OutHeader = 16;

    /// <summary>Writes fuse_in_header + args into <paramref name="buffer"/>; returns the request length.</summary>
    public static int Request(Span<byte> buffer, uint opcode, ulong unique, ulong node, ReadOnlySpan<byte> args, int extra = 0)
    {
        int length = InHeader + args.Length + extra;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[8..], unique);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[16..], node);
        buffer[24..40].Clear(); // uid, gid, pid, extlen: root
        args.CopyTo(buffer[InHeader..]);
        return length;
    }

    public static byte[] InitArgs()
    {
        var args = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(args, 7);
        BinaryPrimitives.WriteUInt32LittleEndian(args.AsSpan(4), 38);
        BinaryPrimitives.WriteUInt32LittleEndian(args.AsSpan(8), 128 * 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(args.AsSpan(12), 0x4000_0000 | (1 << 22) | (1 << 5)); // INIT_EXT, MAX_PAGES, BIG_WRITES
        return args;
    }

    public static byte[] Name(string name) => Encoding.UTF8.GetBytes(name + "\0");

    /// <summary>fuse_read_in / fuse_write_in (40 bytes).</summary>
    public static void ReadWriteArgs(Span<byte> args, ulong handle, long offset, int size)
    {
        args[..40].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(args, handle);
        BinaryPrimitives.WriteInt64LittleEndian(args[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(args[16..], (uint)size);
    }

    /// <summary>fuse_create_in (16 bytes) + name.</summary>
    public static byte[] CreateArgs(string name) =>
        [.. BitConverter.GetBytes(2u /* O_RDWR */), .. BitConverter.GetBytes(0x81a4u), .. new byte[8], .. Name(name)];

    public static byte[] OpenArgs(uint flags) => [.. BitConverter.GetBytes(flags), .. new byte[4]];

    public static byte[] ReleaseArgs(ulong handle) => [.. BitConverter.GetBytes(handle), .. new byte[16]];

    public static int Error(ReadOnlySpan<byte> reply) => -BinaryPrimitives.ReadInt32LittleEndian(reply[4..]);
}
