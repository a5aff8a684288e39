namespace VhostUser.Backend;

/// <summary>One device and where it is served: a socket path to create, or an inherited listening fd.</summary>
/// <param name="Device">The device.</param>
/// <param name="SocketPath">Socket to create, or null.</param>
/// <param name="Fd">Inherited listening socket, or null.</param>
public readonly record struct DaemonEndpoint(VirtioDevice Device, string? SocketPath, int? Fd);
