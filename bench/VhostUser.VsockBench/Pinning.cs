// Pinning.cs — which CPU each party of a run uses. Linux threads inherit the affinity of the
// thread that creates them, so the main thread (the guest driver) pins itself to the host
// program's CPU just while it starts that thread, then back to its own (-1: all CPUs).
using System.Diagnostics;

namespace VhostUser.VsockBench;

internal sealed record Pinning(int GuestCpu, int HostCpu)
{
    /// <summary>Pins the calling thread (the guest driver) to its CPU.</summary>
    public void PinGuest() => Set(GuestCpu);

    /// <summary>Starts the host program's thread on its CPU.</summary>
    public Thread StartHost(Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = "host program" };
        Set(HostCpu);
        try
        {
            thread.Start();
        }
        finally
        {
            Set(GuestCpu);
        }
        return thread;
    }

    /// <summary>The calling thread on <paramref name="cpu"/>, or on every CPU for -1.</summary>
    public static void Set(int cpu)
    {
        if (OperatingSystem.IsLinux())
        {
            // Process.ProcessorAffinity is sched_setaffinity(pid): on Linux it sets the thread
            // whose id is the process id, the main thread, which is the one calling here.
            Process.GetCurrentProcess().ProcessorAffinity = cpu >= 0 ? (nint)(1L << cpu) : (nint)((1L << Environment.ProcessorCount) - 1);
        }
    }
}
