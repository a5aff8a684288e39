// Credentials.cs — run one creating call with the guest caller's uid/gid as this thread's fsuid
// and fsgid, so new files get the right owner and the host's permission checks match the
// guest's. setfsuid/setfsgid are per thread (glibc does not broadcast them), so requests on other
// queues are not affected. The daemon runs as root; the ids are restored to 0 afterwards.
using VhostUser.Devices.Fs.Fuse;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs.Passthrough;

internal readonly struct Credentials : IDisposable
{
    private readonly bool _switched;

    private Credentials(bool switched) => _switched = switched;

    /// <summary>Switches to the caller's ids (no-op for root, or when the daemon is not root).</summary>
    public static Credentials As(in RequestContext context)
    {
        if ((context.Uid == 0 && context.Gid == 0) || !IsRoot)
        {
            return default;
        }
        _ = LibC.setfsgid(context.Gid); // returns the previous id, never an error
        _ = LibC.setfsuid(context.Uid);
        return new Credentials(true);
    }

    public void Dispose()
    {
        if (_switched)
        {
            _ = LibC.setfsuid(0);
            _ = LibC.setfsgid(0);
        }
    }

    /// <summary>
    /// Whether the daemon runs as root, from the effective uid itself: a user-name lookup would go
    /// through NSS, which after pivot_root reads the guest's /etc/nsswitch.conf and could load a
    /// library the guest put in the share.
    /// </summary>
    private static bool IsRoot { get; } = LibC.geteuid() == 0;
}
