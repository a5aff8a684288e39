// One device in the demo: which daemon to start, how QEMU attaches it, what the guest does with
// it, what the host checks afterwards, and how to say in one line what the guest saw. Guest
// snippets name their checks and VHOSTD-INFO keys "<name>.<what>" so each entry reads back only
// its own.
namespace VhostUser.EndToEnd.Demo;

/// <summary>A device the demo knows how to show.</summary>
/// <param name="Name">Device name; the daemon is out/vhost-user-NAME.</param>
/// <param name="Daemon">How to start it (null: QEMU emulates the device itself).</param>
/// <param name="Device">How QEMU attaches it.</param>
/// <param name="Modules">Guest kernel modules it needs.</param>
/// <param name="Tools">Host programs the guest snippet needs.</param>
/// <param name="GuestSnippet">busybox sh run in the guest (check.sh helpers available).</param>
/// <param name="Summarize">One line from the guest's VHOSTD-INFO values.</param>
internal sealed record DemoEntry(
    string Name,
    DaemonSpec? Daemon,
    GuestDevice Device,
    string[] Modules,
    string[] Tools,
    string GuestSnippet,
    Func<GuestResult, string> Summarize)
{
    /// <summary>Runs before the guest is built (e.g. compiles a guest tool); throws RigUnavailableException when it cannot.</summary>
    public Action? Prepare { get; init; }

    /// <summary>A host-side program that runs while the guest does (cancelled when the guest is done).</summary>
    public Func<CancellationToken, Task>? HostProgram { get; init; }

    /// <summary>After the run: null when the host saw what it should, else what is wrong.</summary>
    public Func<string?>? HostCheck { get; init; }
}
