// SocketGroup.cs — virtiofsd's --socket-group: the listening socket is given to a group (by name
// or number) and made 0770, so a QEMU running as a member of that group can connect.
using VhostUser.Backend;
using VhostUser.Devices.Fs.Interop;

namespace VhostUser.Devices.Fs;

internal static class SocketGroup
{
    /// <summary>The gid of a group name or number; throws <see cref="DaemonOptionsException"/> if there is no such group.</summary>
    public static uint Resolve(string group)
    {
        if (uint.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint number))
        {
            return number;
        }
        byte[] name = LibC.NulTerminated(group);
        byte[] buffer = new byte[16384];
        // getgrnam_r fills entry and writes the strings it points to into buffer (pinned for the call).
        int rc = LibC.getgrnam_r(ref name[0], out var entry, buffer, (nuint)buffer.Length, out nint result);
        if (rc != 0 || result == 0)
        {
            throw new DaemonOptionsException($"--socket-group {group}: no such group");
        }
        return entry.Gid;
    }

    /// <summary>chown :gid and chmod 0770 the socket at <paramref name="path"/>.</summary>
    public static void Apply(string path, uint gid)
    {
        byte[] bytes = LibC.NulTerminated(path);
        if (LibC.chown(ref bytes[0], uint.MaxValue, gid) != 0 || LibC.chmod(ref bytes[0], 0x1f8 /* 0770 */) != 0)
        {
            throw new DaemonStartException($"--socket-group: giving {path} to group {gid} failed (errno {Fuse.Errno.Last})");
        }
    }
}
