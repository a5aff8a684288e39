// Window.cs — when a measurement starts counting and when it ends.
namespace VhostUser.VsockBench;

/// <summary>A warm-up followed by the measured time.</summary>
internal readonly record struct Window(TimeSpan Warmup, TimeSpan Measured)
{
    public TimeSpan End => Warmup + Measured;
}
