// Program.cs — vhost-user-probe: connect to a vhost-user back end, print what it offers.
using VhostUser.Tools.Probe;

return new ProbeCommandLine().Run(args, Console.Out, Console.Error);
