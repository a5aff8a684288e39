// WordHash.cs — the checksum vsock-tool (the guest side) prints, computed on the host over what a
// host program received, so a test can compare both ends of a transfer. 8-byte little-endian
// words folded in with a rotate and a multiply (cheap enough for a TCG guest to run over 256 MiB),
// the tail and the length folded in at the end. Must stay identical to hash_* in vsock-tool.c.
using System.Buffers.Binary;
using System.Numerics;

namespace VhostUser.EndToEnd.Tests.Vsock;

internal sealed class WordHash
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15;
    private readonly byte[] _carry = new byte[8];
    private ulong _hash = 0x243F6A8885A308D3;
    private int _carried;

    /// <summary>Bytes hashed so far.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        while (!data.IsEmpty && _carried > 0)
        {
            _carry[_carried++] = data[0];
            data = data[1..];
            if (_carried == 8)
            {
                Word(BinaryPrimitives.ReadUInt64LittleEndian(_carry));
                _carried = 0;
            }
        }
        if (_carried > 0)
        {
            return; // all of it went into the carried partial word
        }
        for (; data.Length >= 8; data = data[8..])
        {
            Word(BinaryPrimitives.ReadUInt64LittleEndian(data));
        }
        data.CopyTo(_carry);
        _carried = data.Length;
    }

    /// <summary>The hash as vsock-tool prints it (16 lower-case hex digits).</summary>
    public string Final()
    {
        ulong tail = 0;
        for (int i = 0; i < _carried; i++)
        {
            tail |= (ulong)_carry[i] << (8 * i);
        }
        ulong x = BitOperations.RotateLeft(_hash ^ tail, 27) * Multiplier;
        x ^= (ulong)Length;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9;
        x ^= x >> 29;
        return x.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Word(ulong word) => _hash = BitOperations.RotateLeft(_hash ^ word, 27) * Multiplier;
}
