// What daemon a guest run starts: out/vhost-user-NAME with --socket-path and the device options.
namespace VhostUser.EndToEnd;

/// <summary>A daemon to start for a guest run.</summary>
public sealed record DaemonSpec
{
    /// <summary>A daemon <c>out/vhost-user-<paramref name="name"/></c> started with <paramref name="arguments"/>.</summary>
    public DaemonSpec(string name, params string[] arguments)
    {
        Name = name;
        Arguments = arguments;
        Id = name;
    }

    /// <summary>The device name: the binary is <c>out/vhost-user-NAME</c>.</summary>
    public string Name { get; }

    /// <summary>Options after <c>--socket-path PATH</c>.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>How devices refer to it (default: <see cref="Name"/>); set it to run two of a kind.</summary>
    public string Id { get; init; }
}
