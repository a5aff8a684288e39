// ChainShape.cs — the request shapes the ring benchmarks feed through the queue.
namespace VhostUser.Benchmarks;

/// <summary>How the driver builds each chain.</summary>
public enum ChainShape
{
    /// <summary>One device-writable 64-byte buffer (an rng request): nothing to read.</summary>
    One,

    /// <summary>A 16-byte readable header, 64 writable data bytes, a 1-byte writable status (a blk read).</summary>
    Three,

    /// <summary><see cref="Three"/> behind one indirect descriptor.</summary>
    Indirect,
}
