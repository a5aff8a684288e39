// The guest tests compare checksums computed by vsock-tool (C, in the guest) with WordHash (C#, on
// the host). This host-only test keeps the two identical: the tool hashes its own pattern, and the
// same bytes generated here must give the same text.
using System.Buffers.Binary;
using System.Diagnostics;

namespace VhostUser.EndToEnd.Tests.Vsock;

public sealed class VsockToolTests
{
    [SkippableTheory]
    [InlineData(0u, 1_000_003L)]
    [InlineData(7u, 13L)]
    [InlineData(3u, 0L)]
    public void WordHash_PatternOfVsockTool_SameAsTool(uint seed, long bytes)
    {
        string tool = VsockGuestSetup.BuildTool();
        using var process = Process.Start(new ProcessStartInfo(tool, ["hash", $"{seed}", $"{bytes}"]) { RedirectStandardOutput = true })!;
        string expected = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);

        var hash = new WordHash();
        var data = Pattern(seed, bytes);
        // Cut the stream differently from the tool: the hash must not depend on it.
        for (int offset = 0, n = 5; offset < data.Length; offset += n, n = n * 7 % 40_009 + 1)
        {
            hash.Append(data.AsSpan(offset, Math.Min(n, data.Length - offset)));
        }
        Assert.Equal(expected, hash.Final());
    }

    /// <summary>vsock-tool's pattern: xorshift64 words, little-endian, seeded from the connection index.</summary>
    private static byte[] Pattern(uint seed, long bytes)
    {
        var data = new byte[(bytes + 7) & ~7L];
        ulong s = (seed + 1UL) * 0x9E3779B97F4A7C15;
        for (int i = 0; i < data.Length; i += 8)
        {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i), s);
        }
        return data[..(int)bytes];
    }
}
