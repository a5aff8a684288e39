// FdLease.cs — the one place that turns a SafeHandle into a raw number for a system call:
// DangerousAddRef on entry, DangerousRelease on Dispose (the Tmds.DBus pattern), so the fd
// cannot be closed and reused by another thread while the call runs.
using System.Runtime.InteropServices;

namespace VhostUser.Unix;

internal ref struct FdLease
{
    private readonly SafeHandle _handle;
    private bool _added;

    public FdLease(SafeHandle handle)
    {
        _handle = handle;
        _added = false;
        handle.DangerousAddRef(ref _added);
        Fd = (int)handle.DangerousGetHandle().ToInt64();
    }

    /// <summary>The raw descriptor, valid until <see cref="Dispose"/>.</summary>
    public int Fd { get; }

    public void Dispose()
    {
        if (_added)
        {
            _handle.DangerousRelease();
            _added = false;
        }
    }
}
