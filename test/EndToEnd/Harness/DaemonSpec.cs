// What daemon a guest run starts: out/vhost-user-NAME with --socket-path and the device options,
// or any other vhost-user back end (e.g. qemu-storage-daemon as a peer for differential tests).
namespace VhostUser.EndToEnd;

/// <summary>A daemon to start for a guest run.</summary>
public sealed record DaemonSpec
{
    /// <summary>The placeholder for the socket path in <see cref="External"/> arguments.</summary>
    public const string SocketPlaceholder = "{socket}";

    /// <summary>Our daemon <c>out/vhost-user-<paramref name="name"/> --socket-path PATH <paramref name="arguments"/></c>.</summary>
    public DaemonSpec(string name, params string[] arguments)
    {
        Name = name;
        Arguments = arguments;
        Id = name;
    }

    /// <summary>The device name: our binary is <c>out/vhost-user-NAME</c>.</summary>
    public string Name { get; }

    /// <summary>Options after <c>--socket-path PATH</c> (for an external daemon: all of them).</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>How devices refer to it (default: <see cref="Name"/>); set it to run two of a kind.</summary>
    public string Id { get; init; }

    /// <summary>An executable other than ours; null for <c>out/vhost-user-NAME</c>.</summary>
    public string? Executable { get; private init; }

    /// <summary>
    /// Any vhost-user back end: <paramref name="executable"/> with <paramref name="arguments"/>,
    /// where <c>{socket}</c> stands for the socket path it must listen on.
    /// </summary>
    public static DaemonSpec External(string id, string executable, params string[] arguments) =>
        new(id, arguments) { Executable = executable };

    /// <summary>The executable and arguments for a socket path.</summary>
    public (string Executable, IReadOnlyList<string> Arguments) CommandFor(RigPaths paths, string socketPath) =>
        Executable is null
            ? (paths.Daemon(Name), ["--socket-path", socketPath, .. Arguments])
            : (Executable, Arguments.Select(a => a.Replace(SocketPlaceholder, socketPath, StringComparison.Ordinal)).ToList());
}
