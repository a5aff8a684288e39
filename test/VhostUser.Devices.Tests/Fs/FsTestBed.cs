// FsTestBed.cs — a temporary shared directory served by FsDevice (PassthroughFs, no sandbox) in
// process, with the hiprio queue and N request queues started and a FuseClient on each.
using VhostUser.Devices.Fs;
using VhostUser.Devices.Fs.Passthrough;
using VhostUser.Devices.Tests.Infrastructure;
using VhostUser.Virtio;

namespace VhostUser.Devices.Tests.Fs;

internal sealed class FsTestBed : IDisposable
{
    public const ulong Root = 1;

    private readonly InProcessDaemon _daemon;
    private readonly DriverHarness _driver;

    public FsTestBed(int requestQueues = 1, Func<FsOptions, FsOptions>? configure = null, bool init = true, int handleFdCacheSize = HandleFdCache.DefaultSize)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("vhost-fs-test-").FullName;
        var options = FsOptions.Create(Directory, null, requestQueues, "auto", false, true, false, false, "none", "prefer", 0, false);
        Options = configure?.Invoke(options) ?? options;
        FileSystem = new PassthroughFs(Options, handleFdCacheSize);
        Device = new FsDevice(Options, FileSystem);
        _daemon = new InProcessDaemon(Device);
        _driver = new DriverHarness(_daemon.Frontend, VirtioFeatures.Version1 | VirtioFeatures.IndirectDesc | VirtioFeatures.EventIdx, 16 << 20);
        Clients = new FuseClient[1 + requestQueues];
        for (int i = 0; i <= requestQueues; i++)
        {
            Clients[i] = new FuseClient(_driver, i, _driver.StartQueue(i, 64));
        }
        if (init)
        {
            Client.Init();
        }
    }

    public string Directory { get; }

    public FsOptions Options { get; }

    public PassthroughFs FileSystem { get; }

    public FsDevice Device { get; }

    /// <summary>Clients by queue index (0: hiprio).</summary>
    public FuseClient[] Clients { get; }

    /// <summary>The first request queue's client.</summary>
    public FuseClient Client => Clients[1];

    public string HostPath(string relative) => Path.Combine(Directory, relative);

    /// <summary>The front end (GET_VRING_BASE and other control requests).</summary>
    public VhostUser.Frontend.VhostUserFrontend Frontend => _daemon.Frontend;

    /// <summary>Sends the same guest RAM again (SET_MEM_TABLE): the daemon maps it anew and unmaps the old mappings.</summary>
    public void ResendMemoryTable() => _daemon.Frontend.SetMemTable(_driver.Memory);

    public void Dispose()
    {
        _driver.Dispose();
        _daemon.Dispose();
        Device.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A guest may create names that are not UTF-8, which .NET cannot name to delete.
            using var rm = System.Diagnostics.Process.Start("rm", ["-rf", "--", Directory]);
            rm.WaitForExit();
        }
    }
}
