// DaemonCommandLine.cs — the back-end program conventions every daemon shares
// (vhost-user-protocol.md §16): --socket-path or --fd, --print-capabilities (JSON written with
// Utf8JsonWriter, which is AOT-safe), --help, --version, --log-level; one-line errors with exit
// code 2 for bad input; SIGINT/SIGTERM stop cleanly and remove the sockets created.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using VhostUser.Unix;

namespace VhostUser.Backend;

/// <summary>Command line and process life cycle of a device daemon.</summary>
public sealed class DaemonCommandLine
{
    /// <summary>Exit code for bad command-line input.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a failure after start (cannot listen, device error).</summary>
    public const int RuntimeError = 1;

    private readonly string _programName;
    private readonly string _capabilityType;
    private readonly Option<string> _socketPath = new("--socket-path") { Description = "Unix socket to create and listen on", HelpName = "PATH" };
    private readonly Option<int?> _fd = new("--fd") { Description = "inherited socket to serve instead of --socket-path: a listening one, or a connected one served as the only front end", HelpName = "N" };
    private Option<bool>? _syslog;
    private readonly Option<bool> _printCapabilities = new("--print-capabilities") { Description = "print the back-end capabilities as JSON and exit" };
    // A string option, so that --help shows the default as it is typed ("info"), not as the
    // LogLevel enum prints it ("Information", which the option does not accept).
    private readonly Option<string> _logLevel = new("--log-level")
    {
        Description = "trace, debug, info, warn, error or off",
        HelpName = "LEVEL",
        DefaultValueFactory = _ => "info",
    };

    /// <summary>Creates the command line for <paramref name="programName"/> (e.g. vhost-user-rng).</summary>
    /// <param name="programName">Executable name, used in messages.</param>
    /// <param name="description">One-line description for --help.</param>
    /// <param name="capabilityType">The vhost-user.json backend type (rng, block, fs, vsock, …).</param>
    public DaemonCommandLine(string programName, string description, string capabilityType)
    {
        _programName = programName;
        _capabilityType = capabilityType;
        _logLevel.Validators.Add(result =>
        {
            string text = result.GetValueOrDefault<string>() ?? "";
            if (ToLogLevel(text) is null)
            {
                result.AddError($"--log-level must be trace, debug, info, warn, error or off, not '{text}'");
            }
        });
        Root = new RootCommand(description) { _socketPath, _fd, _printCapabilities, _logLevel };
    }

    /// <summary>The root command: add device options to it.</summary>
    public RootCommand Root { get; }

    /// <summary>The --socket-path option, for devices that add aliases (vsock's --socket).</summary>
    public Option<string> SocketPathOption => _socketPath;

    /// <summary>
    /// When true, neither --socket-path nor --fd is required: the device's factory names its own
    /// endpoints (vsock's repeated --vm socket=…) and reports what is missing itself.
    /// </summary>
    public bool EndpointsFromDevice { get; set; }

    /// <summary>Strings for the "features" array of --print-capabilities.</summary>
    public IList<string> CapabilityFeatures { get; } = [];

    /// <summary>Adds a device option.</summary>
    public void Add(Option option) => Root.Options.Add(option);

    /// <summary>Offers --syslog: log to the local syslog socket instead of stderr (virtiofsd has it).</summary>
    public void EnableSyslog()
    {
        _syslog = new Option<bool>("--syslog") { Description = "log to syslog (/dev/log) instead of stderr" };
        Root.Options.Add(_syslog);
    }

    /// <summary>
    /// Parses <paramref name="args"/>, builds the devices with <paramref name="build"/> and serves
    /// them until SIGINT/SIGTERM. Returns the process exit code.
    /// </summary>
    public int Run(string[] args, Func<DaemonInvocation, IReadOnlyList<DaemonEndpoint>> build)
    {
        if (Array.IndexOf(args, "--print-capabilities") >= 0)
        {
            PrintCapabilities(Console.OpenStandardOutput());
            return 0;
        }
        var parse = Root.Parse(args);
        if (parse.Action is HelpAction || parse.Action is not null && parse.Action is not ParseErrorAction)
        {
            return parse.Invoke();
        }
        if (parse.Errors.Count > 0)
        {
            return Fail(UsageError, $"{parse.Errors[0].Message} (see --help)");
        }
        string? socketPath = parse.GetValue(_socketPath);
        int? fd = parse.GetValue(_fd);
        if ((socketPath is not null && fd is not null) || (socketPath is null && fd is null && !EndpointsFromDevice))
        {
            return Fail(UsageError, "give exactly one of --socket-path PATH or --fd N");
        }
        if (fd is < 0)
        {
            return Fail(UsageError, $"--fd {fd} is not a file descriptor number");
        }
        if (fd is { } inherited && CheckInheritedSocket(inherited) is { } problem)
        {
            return Fail(UsageError, $"--fd {inherited}: {problem}");
        }
        var level = ToLogLevel(parse.GetValue(_logLevel) ?? "info") ?? LogLevel.Information;
        SyslogLoggerProvider? syslog = null;
        if (_syslog is not null && parse.GetValue(_syslog))
        {
            syslog = SyslogLoggerProvider.TryCreate(_programName);
            if (syslog is null)
            {
                Console.Error.WriteLine($"{_programName}: warning: cannot reach syslog at {SyslogLoggerProvider.DefaultPath}; logging to stderr");
            }
        }
        using var loggerFactory = CreateLoggerFactory(level, syslog);
        IReadOnlyList<DaemonEndpoint> endpoints;
        try
        {
            endpoints = build(new DaemonInvocation(parse, socketPath, fd, loggerFactory));
        }
        catch (DaemonOptionsException e)
        {
            return Fail(UsageError, e.Message);
        }
        catch (DaemonStartException e)
        {
            return Fail(RuntimeError, e.Message);
        }
        return Serve(endpoints, loggerFactory);
    }

    /// <summary>Writes {"type": …, "features": […]} (vhost-user.json VHostUserBackendCapabilities).</summary>
    public void PrintCapabilities(Stream output)
    {
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("type", _capabilityType);
            json.WriteStartArray("features");
            foreach (string feature in CapabilityFeatures)
            {
                json.WriteStringValue(feature);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        output.Flush();
    }

    private int Serve(IReadOnlyList<DaemonEndpoint> endpoints, ILoggerFactory loggerFactory)
    {
        var daemons = new List<VhostUserDaemon>();
        try
        {
            foreach (var endpoint in endpoints)
            {
                var daemon = new VhostUserDaemon(endpoint.Device, loggerFactory);
                daemons.Add(daemon);
                if (endpoint.SocketPath is not null)
                {
                    daemon.Listen(endpoint.SocketPath);
                }
                else
                {
                    daemon.Adopt(new FileDescriptor(endpoint.Fd!.Value));
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ArgumentException)
        {
            foreach (var daemon in daemons)
            {
                daemon.Dispose();
            }
            return Fail(RuntimeError, $"cannot listen: {e.Message}");
        }
        void StopAll(PosixSignalContext context)
        {
            context.Cancel = true;
            foreach (var daemon in daemons)
            {
                daemon.Stop();
            }
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopAll);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopAll);
        var threads = daemons.Skip(1).Select(d => new Thread(d.Serve) { Name = "vhost-accept" }).ToList();
        threads.ForEach(t => t.Start());
        daemons[0].Serve();
        threads.ForEach(t => t.Join());
        Log.ShuttingDown(loggerFactory.CreateLogger("vhost-user"));
        foreach (var daemon in daemons)
        {
            daemon.Dispose();
        }
        return 0;
    }

    /// <summary>
    /// Why the inherited fd cannot be served, or null: it must be an open stream socket, either
    /// listening (accepted on) or connected (served as the one front end). Checked before the
    /// devices are built, so a wrong number is a usage error, not a failure after start.
    /// </summary>
    private static string? CheckInheritedSocket(int number)
    {
        using var borrowed = new FileDescriptor(number, ownsHandle: false);
        FileKind kind;
        try
        {
            kind = borrowed.GetKind();
        }
        catch (IOException)
        {
            return "not an open socket";
        }
        if (kind != FileKind.Socket)
        {
            return $"not an open socket (a {DescribeKind(kind)})";
        }
        return UnixSocket.FromDescriptor(borrowed).IsStream ? null : "not a stream socket";
    }

    private static string DescribeKind(FileKind kind) => kind switch
    {
        FileKind.Regular => "regular file",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.Fifo => "pipe",
        FileKind.Anonymous => "non-socket descriptor",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private int Fail(int code, string message)
    {
        Console.Error.WriteLine($"{_programName}: error: {message}");
        return code;
    }

    private static ILoggerFactory CreateLoggerFactory(LogLevel level, SyslogLoggerProvider? syslog) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        if (syslog is not null)
        {
            builder.AddProvider(syslog); // the factory disposes it
            return;
        }
        // Everything on stderr; systemd's journal gets priority prefixes instead of colours.
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null)
        {
            builder.AddSystemdConsole();
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    });

    /// <summary>The level a --log-level word names, or null for any other word.</summary>
    private static LogLevel? ToLogLevel(string text) => text.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "off" => LogLevel.None,
        _ => null,
    };
}
