// FuseName.cs — checks on the file names a guest sends (LOOKUP, MKDIR, RENAME, …). A name must be
// one path component: non-empty, NUL-terminated, no '/', and not "." or "..". Together with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) on O_PATH handles this is what keeps the guest
// inside --shared-dir (README, "Security").
namespace VhostUser.Devices.Fs.Fuse;

internal static class FuseName
{
    /// <summary>Longest name accepted (NAME_MAX).</summary>
    public const int MaxLength = 255;

    /// <summary>
    /// Splits the first NUL-terminated string off <paramref name="data"/>: <paramref name="name"/>
    /// includes its NUL (ready for a system call), <paramref name="rest"/> follows it.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> rest)
    {
        int end = data.IndexOf((byte)0);
        if (end < 0)
        {
            name = default;
            rest = default;
            return false;
        }
        name = data[..(end + 1)];
        rest = data[(end + 1)..];
        return true;
    }

    /// <summary>Errno for a name that is not a single, ordinary path component; 0 if it is fine.</summary>
    public static int Validate(ReadOnlySpan<byte> nameWithNul)
    {
        var name = nameWithNul[..^1];
        if (name.IsEmpty)
        {
            return Errno.ENOENT;
        }
        if (name.Length > MaxLength)
        {
            return Errno.ENAMETOOLONG;
        }
        if (name.IndexOf((byte)'/') >= 0)
        {
            return Errno.EINVAL;
        }
        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            return Errno.EINVAL;
        }
        return 0;
    }
}
