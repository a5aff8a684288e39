// One guest boot (or several, for a run that reboots): start the daemons, build the image, start
// QEMU, read the serial console until the guest says VHOSTD-DONE, QEMU exits or the timeout
// passes, and always clean up — QEMU and the daemons by process group, sockets, the temporary
// directory — whatever happened. Everything seen is kept in the GuestResult.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace VhostUser.EndToEnd;

/// <summary>The description of a guest run; <see cref="RunAsync"/> performs it.</summary>
public sealed class GuestRun
{
    /// <summary>A run on <paramref name="transport"/>.</summary>
    public GuestRun(Transport transport) => Transport = transport;

    /// <summary>PCI (q35) or MMIO (microvm).</summary>
    public Transport Transport { get; }

    /// <summary>Names the log file (TestResults/guest-logs/NAME-pci.log) and the QEMU process.</summary>
    public string Name { get; init; } = "guest";

    /// <summary>Daemons this run starts before QEMU and stops after it.</summary>
    public IList<DaemonSpec> Daemons { get; } = new List<DaemonSpec>();

    /// <summary>Daemons started by the caller (kept running after the run: re-listen tests).</summary>
    public IList<DaemonProcess> RunningDaemons { get; } = new List<DaemonProcess>();

    /// <summary>Devices given to the guest.</summary>
    public IList<GuestDevice> Devices { get; } = new List<GuestDevice>();

    /// <summary>Kernel modules to load in the guest (dependencies are added; virtio_mmio always is).</summary>
    public IList<string> Modules { get; } = new List<string>();

    /// <summary>Host programs to copy into the guest with their libraries (e.g. socat, fio).</summary>
    public IList<string> Tools { get; } = new List<string>();

    /// <summary>The guest test script; /lib/check.sh is sourced first unless it starts with #!.</summary>
    public string Script { get; init; } = "";

    /// <summary>
    /// Boots in this run. With more than one, QEMU runs without -no-reboot, the guest gets a
    /// stage marker disk and sees VHOSTD_STAGE=1,2,…; the script calls guest_reboot to move on.
    /// </summary>
    public int Stages { get; init; } = 1;

    /// <summary>Bound on the whole run from QEMU's start (TCG boots take 8–35 s here).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Guest RAM in MiB.</summary>
    public int MemoryMiB { get; init; } = 512;

    /// <summary>Guest vCPUs.</summary>
    public int Cpus { get; init; } = 2;

    /// <summary>Extra kernel command line words.</summary>
    public IList<string> KernelArguments { get; } = new List<string>();

    /// <summary>Extra QEMU arguments, appended last.</summary>
    public IList<string> ExtraQemuArguments { get; } = new List<string>();

    /// <summary>Called for every serial line (e.g. to send QMP system_reset when a line appears).</summary>
    public Func<GuestSession, string, Task>? OnSerialLine { get; init; }

    /// <summary>Progress messages (waiting for the guest lock, building, starting), e.g. for a console.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>Rig locations (discovered when null).</summary>
    public RigPaths? Paths { get; init; }

    /// <summary>Performs the run. Throws <see cref="RigUnavailableException"/> when assets or daemons are missing.</summary>
    public async Task<GuestResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var paths = Paths ?? RigPaths.Discover();
        var missing = paths.MissingAssets() ?? paths.MissingDaemons(Daemons.Where(d => d.Executable is null).Select(d => d.Name));
        if (missing is not null)
        {
            throw new RigUnavailableException(missing);
        }

        await using var guestLock = (await GuestLock.AcquireAsync(cancellationToken: cancellationToken, onWaiting: Progress)
            .ConfigureAwait(false)).ConfigureAwait(false);
        Progress?.Invoke($"building the initramfs ({Modules.Count} module(s), {Tools.Count} tool(s))");
        var modules = Stages > 1 ? Modules.Append("virtio_blk") : Modules;
        var image = await GuestImage.BuildAsync(paths, Script, modules, Tools, cancellationToken).ConfigureAwait(false);
        var directory = Directory.CreateTempSubdirectory("vhostd-e2e-").FullName;
        var result = new GuestResult(this);
        var started = new List<DaemonProcess>();
        var qemu = new StrongBox<ChildProcess?>();
        try
        {
            foreach (var spec in Daemons)
            {
                Progress?.Invoke($"starting daemon {spec.Id}");
                started.Add(await DaemonProcess.StartAsync(spec, directory, paths, cancellationToken: cancellationToken)
                    .ConfigureAwait(false));
            }

            await RunQemuAsync(paths, image, directory, started, result, qemu, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            result.AddProblem(e.Message);
        }
        finally
        {
            try
            {
                await StopAsync(qemu.Value, started, result).ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                }

                result.WriteLog(paths.LogDirectory);
            }
        }

        return result;
    }

    private async Task StopAsync(ChildProcess? qemu, List<DaemonProcess> started, GuestResult result)
    {
        if (qemu is not null)
        {
            await qemu.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            result.QemuExitCode = qemu.ExitCode;
            result.QemuLog = qemu.Log;
            result.QemuCommandLine = qemu.CommandLine;
            await qemu.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var daemon in started)
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
            result.AddDaemon(daemon);
        }

        foreach (var daemon in RunningDaemons)
        {
            result.AddDaemon(daemon);
        }
    }

    private async Task RunQemuAsync(RigPaths paths, string image, string directory,
        List<DaemonProcess> started, GuestResult result, StrongBox<ChildProcess?> qemuBox,
        CancellationToken cancellationToken)
    {
        var sockets = started.Concat(RunningDaemons).ToDictionary(d => d.Spec.Id, d => d.SocketPath);
        string? marker = null;
        if (Stages > 1)
        {
            marker = Path.Combine(directory, "stage-marker.img");
            await using (var file = File.Create(marker))
            {
                file.SetLength(1 << 20);
            }
        }

        var qmpSocket = Path.Combine(directory, "qmp.sock");
        var args = QemuCommandLine.Build(this, paths.Kernel, image, qmpSocket, marker, id =>
            sockets.TryGetValue(id, out var socket)
                ? socket
                : throw new InvalidOperationException($"device refers to daemon '{id}', which this run does not have"));
        var lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        Progress?.Invoke($"starting QEMU ({Transport}, {HostInfo.Accelerator}), timeout {Timeout.TotalSeconds:0} s");
        var clock = Stopwatch.StartNew();
        var qemu = ChildProcess.Start("qemu", paths.Qemu, args, line => lines.Writer.TryWrite(line));
        qemuBox.Value = qemu; // from here on the caller stops it, whatever happens below
        _ = qemu.WaitForExitAsync(CancellationToken.None).ContinueWith(_ => lines.Writer.TryComplete(),
            TaskScheduler.Default);
        await using var session = new GuestSession(qmpSocket, Transport);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await foreach (var line in lines.Reader.ReadAllAsync(timeout.Token).ConfigureAwait(false))
            {
                var kind = result.AcceptSerialLine(line, clock.Elapsed);
                if (OnSerialLine is not null)
                {
                    await OnSerialLine(session, line).ConfigureAwait(false);
                }

                if (kind == "DONE" && result.Finished)
                {
                    break;
                }

                if (result.Boots > Stages)
                {
                    result.AddProblem($"the guest booted {result.Boots} times; the run has {Stages} stage(s) (a panic or an unexpected reboot?)");
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result.TimedOut = true;
            result.AddProblem($"timed out after {Timeout.TotalSeconds:0} s (stage {result.Stage}, {result.Checks.Count} checks reported)");
        }

        if (result.Finished && !await qemu.WaitForExitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false))
        {
            // The guest finished but did not power off: ask QEMU to quit before it is killed.
            await session.TryQuitAsync().ConfigureAwait(false);
            await qemu.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        // Lines still queued after the loop ended (QEMU exited) belong to the log.
        while (lines.Reader.TryRead(out var rest))
        {
            result.AcceptSerialLine(rest, clock.Elapsed);
        }

        result.Elapsed = clock.Elapsed;
    }
}
