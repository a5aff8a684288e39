// Program.cs — vhost-user-rng: parse options, build one device per socket, serve. Option names,
// short forms and defaults are vhost-device-rng's (rust-vmm/vhost-device, vhost-device-rng
// src/main.rs), so scripts can switch daemons; see RngOptions for the one deliberate difference.
using System.CommandLine;
using VhostUser.Backend;
using VhostUser.Devices.Rng;

var commandLine = new DaemonCommandLine("vhost-user-rng", "vhost-user virtio-rng back end (entropy for guests)", "rng");
commandLine.SocketPathOption.Aliases.Add("-s");
var source = new Option<string>("--rng-source", "-f") { Description = "entropy source", HelpName = "PATH", DefaultValueFactory = _ => "/dev/urandom" };
var period = new Option<int>("--period", "-p")
{
    Description = "rate-limit window in milliseconds (1..65536)",
    HelpName = "MS",
    DefaultValueFactory = _ => RngOptions.DefaultPeriodMilliseconds,
};
var maxBytes = new Option<long?>("--max-bytes", "-m") { Description = "most bytes served per period, shared out among the sockets (default: unlimited)", HelpName = "N" };
var socketCount = new Option<int>("--socket-count", "-c")
{
    Description = "number of guests to serve, on sockets PATH0..PATH(N-1) (without this option: one guest on PATH itself)",
    HelpName = "N",
    DefaultValueFactory = _ => 1,
};
commandLine.Add(source);
commandLine.Add(period);
commandLine.Add(maxBytes);
commandLine.Add(socketCount);

return commandLine.Run(args, invocation =>
{
    var options = RngOptions.Create(invocation.GetValue(source)!, invocation.GetValue(period), invocation.GetValue(maxBytes), invocation.GetValue(socketCount));
    var devices = new List<VirtioDevice>();
    for (int i = 0; i < options.SocketCount; i++)
    {
        devices.Add(new RngDevice(options));
    }
    // vhost-device-rng always numbers its sockets (PATH0 even for one); we keep plain PATH when
    // --socket-count is not given, as every other daemon here serves --socket-path itself.
    return invocation.Endpoints(devices, numbered: invocation.WasGiven(socketCount));
});
