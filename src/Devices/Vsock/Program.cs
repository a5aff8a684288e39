// Program.cs — vhost-user-vsock: one guest from --guest-cid/--socket/--uds-path, or several from
// repeated --vm or a --config YAML file, all served by this one process (option names as
// vhost-device-vsock's). Each guest gets its own vhost-user socket and host-side listeners.
using System.CommandLine;
using VhostUser.Backend;
using VhostUser.Devices.Vsock;

var commandLine = new DaemonCommandLine("vhost-user-vsock", "vhost-user virtio-vsock back end (host <-> guest sockets over Unix sockets)", "vsock")
{
    EndpointsFromDevice = true,
};
commandLine.SocketPathOption.Aliases.Add("--socket");
var guestCid = new Option<ulong>("--guest-cid") { Description = "the guest's context id (3 or more)", HelpName = "N", DefaultValueFactory = _ => VsockVmOptions.DefaultGuestCid };
var udsPath = new Option<string>("--uds-path") { Description = "host-side Unix socket: host programs connect here and write CONNECT <port>; guest connections to port P go to PATH_P", HelpName = "PATH" };
var txBufferSize = new Option<ulong>("--tx-buffer-size") { Description = "per-connection buffer for guest->host data the host has not read yet (bytes)", HelpName = "BYTES", DefaultValueFactory = _ => VsockVmOptions.DefaultTxBufferSize };
var queueSize = new Option<long>("--queue-size") { Description = "largest virtqueue size accepted", HelpName = "N", DefaultValueFactory = _ => VsockVmOptions.DefaultQueueSize };
var groups = new Option<string>("--groups") { Description = "sibling groups joined with '+': guests sharing a group may connect to each other", HelpName = "NAMES", DefaultValueFactory = _ => VsockVmOptions.DefaultGroup };
var vm = new Option<string[]>("--vm") { Description = "one guest as guest-cid=N,socket=PATH,uds-path=PATH[,tx-buffer-size=N][,queue-size=N][,groups=a+b]; repeat for more", HelpName = "KEYS", AllowMultipleArgumentsPerToken = false };
var config = new Option<string>("--config") { Description = "YAML file listing the guests under 'vms:' with the --vm keys", HelpName = "FILE" };
foreach (var option in (Option[])[guestCid, udsPath, txBufferSize, queueSize, groups, vm, config])
{
    commandLine.Add(option);
}
commandLine.CapabilityFeatures.Add("seqpacket");

var devices = new List<VsockDevice>();
int exitCode = commandLine.Run(args, invocation =>
{
    var registry = new VsockRegistry();
    var vms = ReadGuests(invocation);
    VsockVmOptions.CheckDistinct(vms);
    var endpoints = new List<DaemonEndpoint>();
    try
    {
        foreach (var options in vms)
        {
            var device = new VsockDevice(options, registry);
            devices.Add(device);
            endpoints.Add(new DaemonEndpoint(device, options.Socket, options.Socket is null ? invocation.Fd : null));
        }
    }
    catch
    {
        devices.ForEach(d => d.Dispose());
        throw;
    }
    return endpoints;
});
devices.ForEach(d => d.Dispose());
return exitCode;

IReadOnlyList<VsockVmOptions> ReadGuests(DaemonInvocation invocation)
{
    bool single = Array.Exists((Option[])[guestCid, udsPath, txBufferSize, queueSize, groups], invocation.WasGiven);
    string[] vmValues = invocation.GetValue(vm) ?? [];
    string? configFile = invocation.GetValue(config);
    if (vmValues.Length > 0 || configFile is not null)
    {
        if (single || invocation.SocketPath is not null || invocation.Fd is not null)
        {
            throw new DaemonOptionsException("--vm and --config replace --guest-cid, --socket, --uds-path, --tx-buffer-size, --queue-size, --groups and --fd; give one form");
        }
        if (vmValues.Length > 0 && configFile is not null)
        {
            throw new DaemonOptionsException("give either --vm (repeatable) or --config, not both");
        }
        return configFile is not null ? VsockConfigFile.Load(configFile) : vmValues.Select(VsockVmOptions.ParseVm).ToList();
    }
    if (invocation.SocketPath is null && invocation.Fd is null)
    {
        throw new DaemonOptionsException("give --socket PATH (or --fd N) with --uds-path PATH, or one --vm per guest, or --config FILE");
    }
    return [VsockVmOptions.Create("--", invocation.GetValue(guestCid), invocation.SocketPath, invocation.GetValue(udsPath),
        invocation.GetValue(txBufferSize), invocation.GetValue(queueSize), invocation.GetValue(groups))];
}
