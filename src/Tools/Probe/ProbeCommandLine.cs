// ProbeCommandLine.cs — vhost-user-probe's arguments and exit codes: 0 on success, 2 with a
// one-line error for bad arguments, 1 with a one-line error when the back end cannot be reached
// or breaks the protocol (house rules; the same codes as the device daemons).
using System.CommandLine;
using System.CommandLine.Help;
using System.Net.Sockets;
using VhostUser.Backend;
using VhostUser.Frontend;
using VhostUser.Protocol;

namespace VhostUser.Tools.Probe;

internal sealed class ProbeCommandLine
{
    private const string ProgramName = "vhost-user-probe";

    private readonly Option<string> _socketPath = new("--socket-path") { Description = "the back end's Unix socket", HelpName = "PATH" };
    private readonly Option<int?> _configSize = new("--config-size") { Description = "GET_CONFIG size in bytes (1..256; default: the largest common size the back end accepts)", HelpName = "N" };
    private readonly Option<int> _timeout = new("--timeout") { Description = "how long to wait for each reply, in milliseconds", HelpName = "MS", DefaultValueFactory = _ => 5000 };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _device = new("--device")
    {
        Description = $"name the device-specific feature bits as this device type's ({string.Join(", ", DeviceFeatureNames.Types)})",
        HelpName = "TYPE",
    };
    private readonly RootCommand _root;

    public ProbeCommandLine() =>
        _root = new RootCommand("Connects to a vhost-user back end, negotiates as QEMU does (no rings) and prints what it offers.")
        {
            _socketPath, _configSize, _timeout, _json, _device,
        };

    /// <summary>Runs the probe; returns the exit code.</summary>
    public int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parse = _root.Parse(args);
        if (parse.Action is HelpAction || parse.Action is not null && parse.Action is not System.CommandLine.Invocation.ParseErrorAction)
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
        }
        ProbeOptions options;
        try
        {
            if (parse.Errors.Count > 0)
            {
                throw new DaemonOptionsException($"{parse.Errors[0].Message.TrimEnd('.')} (see --help)");
            }
            options = ProbeOptions.Create(parse.GetValue(_socketPath), parse.GetValue(_configSize), parse.GetValue(_timeout), parse.GetValue(_json), parse.GetValue(_device));
        }
        catch (DaemonOptionsException e)
        {
            error.WriteLine($"{ProgramName}: error: {e.Message}");
            return DaemonCommandLine.UsageError;
        }
        return Probe(options, output, error);
    }

    private static int Probe(ProbeOptions options, TextWriter output, TextWriter error)
    {
        try
        {
            using var frontend = VhostUserFrontend.Connect(options.SocketPath, options.Timeout);
            var report = BackendProbe.Run(frontend, options.ConfigSize);
            output.Write(options.Json
                ? ReportWriter.Json(options.SocketPath, report, options.DeviceType)
                : ReportWriter.Text(options.SocketPath, report, options.DeviceType));
            return 0;
        }
        catch (Exception e) when (e is IOException or SocketException or ProtocolException)
        {
            error.WriteLine($"{ProgramName}: error: {options.SocketPath}: {Describe(e)}");
            return DaemonCommandLine.RuntimeError;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        SocketException s => $"cannot connect: {s.Message}",
        ProtocolException p => $"protocol error ({p.Error}): {p.Message}",
        _ => e.Message,
    };
}
