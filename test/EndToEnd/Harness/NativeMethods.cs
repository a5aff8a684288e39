// The one libc call the rig needs that .NET lacks: signalling a whole process group.
using System.Runtime.InteropServices;

namespace VhostUser.EndToEnd;

internal static partial class NativeMethods
{
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    /// <summary>kill(2); a negative pid names a process group.</summary>
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static extern int kill(int pid, int sig);
}
