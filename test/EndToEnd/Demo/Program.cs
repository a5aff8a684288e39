// `make demo`: starts every daemon in out/ that the demo knows (DemoEntries), boots ONE guest on
// PCI that uses them all, runs the host side of each (a vsock echo program, checks of the shared
// directory), and prints a table of what the guest saw per device. Ends by itself; the harness
// stops QEMU and the daemons whatever happens (Ctrl-C included), and the demo's working
// directory (disk image, shared directory, vsock sockets) is removed.
// Options: --builtin  use QEMU's own virtio-rng instead of daemons (checks the demo itself).
//          --mmio     boot a microvm (virtio-mmio) guest instead of q35.
using VhostUser.EndToEnd;
using VhostUser.EndToEnd.Demo;

var builtin = args.Contains("--builtin");
var transport = args.Contains("--mmio") ? Transport.Mmio : Transport.Pci;
var paths = RigPaths.Discover();
if (paths.MissingAssets() is { } missingAssets)
{
    Console.Error.WriteLine(missingAssets);
    return 2;
}

var work = Directory.CreateTempSubdirectory("vhostd-demo-").FullName;
try
{
    return await DemoAsync(builtin, transport, paths, work);
}
finally
{
    Directory.Delete(work, recursive: true);
}

static async Task<int> DemoAsync(bool builtin, Transport transport, RigPaths paths, string work)
{
    var known = DemoEntries.Create(work);
    var entries = builtin
        ? [DemoEntries.BuiltinRng()]
        : known.Where(e => e.Daemon is not null && File.Exists(paths.Daemon(e.Daemon.Name))).ToList();
    if (entries.Count == 0)
    {
        Console.Error.WriteLine(
            $"no daemon to demo in {paths.Out} (known: {string.Join(", ", known.Select(e => "vhost-user-" + e.Name))}). "
            + "Build them with: make   (or try the rig with: make demo DEMO_ARGS=--builtin)");
        return 2;
    }

    foreach (var entry in entries)
    {
        try
        {
            entry.Prepare?.Invoke();
        }
        catch (RigUnavailableException e)
        {
            Console.Error.WriteLine($"{entry.Name}: {e.Message}");
            return 2;
        }
    }

    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };

    var run = new GuestRun(transport)
    {
        Name = "demo",
        Script = string.Join("\n", entries.Select(e => e.GuestSnippet)),
        Progress = message => Console.WriteLine("  " + message),
    };
    foreach (var entry in entries)
    {
        if (entry.Daemon is not null)
        {
            run.Daemons.Add(entry.Daemon);
        }

        run.Devices.Add(entry.Device);
        foreach (var module in entry.Modules)
        {
            run.Modules.Add(module);
        }

        foreach (var tool in entry.Tools)
        {
            run.Tools.Add(tool);
        }
    }

    Console.WriteLine($"vhostd demo: {entries.Count} device(s) on one {transport} guest; {HostInfo.AcceleratorReason}");
    using var hostSide = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
    var hostPrograms = entries.Where(e => e.HostProgram is not null).Select(e => e.HostProgram!(hostSide.Token)).ToList();
    GuestResult result;
    try
    {
        result = await run.RunAsync(cancel.Token);
    }
    finally
    {
        hostSide.Cancel();
        await Task.WhenAll(hostPrograms);
    }

    var width = Math.Max(8, entries.Max(e => e.Name.Length) + 2);
    Console.WriteLine();
    Console.WriteLine($"{"device".PadRight(width)}what the guest saw");
    var failed = false;
    foreach (var entry in entries)
    {
        var prefix = entry.Name.Split(' ')[0] + ".";
        var checks = result.Checks.Where(c => c.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var hostProblem = entry.HostCheck?.Invoke();
        var ok = checks.Count > 0 && checks.All(c => c.Passed) && hostProblem is null;
        failed |= !ok;
        var line = ok
            ? entry.Summarize(result)
            : "FAILED: " + (checks.Count == 0 ? "no checks reported"
                : checks.All(c => c.Passed) ? hostProblem
                : string.Join("; ", checks.Where(c => !c.Passed)));
        Console.WriteLine($"{entry.Name.PadRight(width)}{line}");
    }

    Console.WriteLine();
    Console.WriteLine($"guest boot {result.BootTime?.TotalSeconds:0.0} s, whole run {result.Elapsed.TotalSeconds:0.0} s; log: {result.LogFile}");
    if (!result.Succeeded || failed)
    {
        Console.WriteLine();
        Console.WriteLine(result.Report());
        return 1;
    }

    return 0;
}
