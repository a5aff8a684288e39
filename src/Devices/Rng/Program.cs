// Program.cs — vhost-user-rng: parse options, build one device per socket, serve.
using System.CommandLine;
using VhostUser.Backend;
using VhostUser.Devices.Rng;

var commandLine = new DaemonCommandLine("vhost-user-rng", "vhost-user virtio-rng back end (entropy for guests)", "rng");
var source = new Option<string>("--rng-source") { Description = "entropy source", HelpName = "PATH", DefaultValueFactory = _ => "/dev/urandom" };
var period = new Option<int>("--period") { Description = "rate-limit window in milliseconds (1..65536)", HelpName = "MS", DefaultValueFactory = _ => 1000 };
var maxBytes = new Option<long?>("--max-bytes") { Description = "most bytes served per period (default: unlimited)", HelpName = "N" };
var socketCount = new Option<int>("--socket-count") { Description = "number of guests to serve: sockets PATH0..PATH(N-1)", HelpName = "N", DefaultValueFactory = _ => 1 };
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
    return invocation.Endpoints(devices);
});
