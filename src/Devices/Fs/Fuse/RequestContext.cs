// RequestContext.cs — who sent a FUSE request (fuse_in_header uid/gid/pid), for the operations
// that create files (their owner) and check access.
namespace VhostUser.Devices.Fs.Fuse;

/// <summary>The caller of one request, as the guest kernel reports it.</summary>
/// <param name="Uid">Caller's fs uid in the guest.</param>
/// <param name="Gid">Caller's fs gid in the guest.</param>
/// <param name="Pid">Caller's thread group id in the guest.</param>
internal readonly record struct RequestContext(uint Uid, uint Gid, uint Pid);
