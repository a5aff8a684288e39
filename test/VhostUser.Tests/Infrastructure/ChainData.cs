// ChainData.cs — small helpers to move a whole chain's bytes through ChainReader / ChainWriter.
using VhostUser.Virtio;

namespace VhostUser.Tests.Infrastructure;

public static class ChainData
{
    /// <summary>All device-readable bytes of the chain, through a ChainReader.</summary>
    public static byte[] ReadAll(in DescriptorChain chain)
    {
        var result = new byte[chain.ReadableLength];
        var reader = chain.CreateReader();
        Assert.Equal(result.Length, reader.Read(result));
        Assert.Equal(0u, reader.Remaining);
        return result;
    }

    /// <summary>Deterministic test bytes: byte i is (seed + i * 7) mod 251.</summary>
    public static byte[] Pattern(int length, int seed = 1)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((seed + i * 7) % 251);
        }
        return bytes;
    }
}
