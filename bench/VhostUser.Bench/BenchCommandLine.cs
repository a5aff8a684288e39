// BenchCommandLine.cs — the bench's options (System.CommandLine, AOT-safe) turned into a validated
// BenchOptions. Choice options are plain strings checked here, so the messages name the choices.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace VhostUser.Bench;

/// <summary>Parses the command line.</summary>
internal sealed class BenchCommandLine
{
    private readonly Option<string> _socketPath = new("--socket-path") { Description = "the back end's socket (with --spawn/--compare: where the daemon listens; {socket} in a command is replaced by it)", HelpName = "PATH" };
    private readonly Option<string> _device = Choice("--device", "request format: rng (one writable buffer) or blk (virtio-blk header, data, status)", "rng", "rng", "blk");
    private readonly Option<int> _queueDepth = new("--queue-depth") { Description = "requests in flight per queue", HelpName = "N", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _queues = new("--queues") { Description = "request queues to drive", HelpName = "N", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _queueSize = new("--queue-size") { Description = "ring entries per queue", HelpName = "N", DefaultValueFactory = _ => 256 };
    private readonly Option<double> _duration = new("--duration") { Description = "measured seconds", HelpName = "S", DefaultValueFactory = _ => 5 };
    private readonly Option<double> _warmup = new("--warmup") { Description = "seconds run before measuring", HelpName = "S", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _ring = Choice("--ring", "ring layout", "split", "split", "packed");
    private readonly Option<string> _eventIdx = Choice("--event-idx", "negotiate VIRTIO_F_EVENT_IDX", "on", "on", "off");
    private readonly Option<string> _indirect = Choice("--indirect", "offer each request as one indirect descriptor", "off", "on", "off");
    private readonly Option<int?> _blockSize = new("--block-size") { Description = "bytes per request (default: rng 64, blk 4096)", HelpName = "BYTES" };
    private readonly Option<string> _rw = Choice("--rw", "blk access pattern", "randread", "read", "write", "randread", "randwrite");
    private readonly Option<string> _spawn = new("--spawn") { Description = "start this daemon command first, pinned with taskset to --daemon-cpu", HelpName = "\"CMD ARGS\"" };
    private readonly Option<string[]> _compare = new("--compare") { Description = "run two daemon commands alternately, --repeat times each", HelpName = "\"CMD_A\" \"CMD_B\"", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
    private readonly Option<int?> _repeat = new("--repeat") { Description = "runs per daemon with --compare (default 3)", HelpName = "N" };
    private readonly Option<int?> _benchCpu = new("--bench-cpu") { Description = "CPU to pin the bench to (default with --spawn/--compare: 0)", HelpName = "N" };
    private readonly Option<int> _daemonCpu = new("--daemon-cpu") { Description = "CPU to pin a spawned daemon to", HelpName = "N", DefaultValueFactory = _ => 1 };
    private readonly RootCommand _root;

    public BenchCommandLine()
    {
        _root = new RootCommand("vhost-user-bench: drives a vhost-user back end with the C# front end and reports requests/s, MB/s and latency")
        {
            _socketPath, _device, _queueDepth, _queues, _queueSize, _duration, _warmup, _ring, _eventIdx, _indirect,
            _blockSize, _rw, _spawn, _compare, _repeat, _benchCpu, _daemonCpu,
        };
    }

    /// <summary>
    /// Parses <paramref name="args"/>. Returns the options, or null with <paramref name="exitCode"/>
    /// set when the command line was handled already (--help, --version) or was wrong.
    /// </summary>
    public BenchOptions? Parse(string[] args, out int exitCode)
    {
        exitCode = 0;
        var parse = _root.Parse(args);
        if (parse.Action is HelpAction || parse.Action is not null && parse.Action is not ParseErrorAction)
        {
            exitCode = parse.Invoke();
            return null;
        }
        if (parse.Errors.Count > 0)
        {
            // One line: System.CommandLine lists the accepted choices on lines of their own.
            string message = string.Join(' ', parse.Errors[0].Message.Split(['\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
            throw new BenchOptionsException($"{message} (see --help)");
        }
        return BenchOptions.Create(
            parse.GetValue(_socketPath), parse.GetValue(_device) == "blk" ? DeviceKind.Blk : DeviceKind.Rng,
            parse.GetValue(_queueDepth), parse.GetValue(_queues), parse.GetValue(_queueSize),
            parse.GetValue(_duration), parse.GetValue(_warmup), parse.GetValue(_ring) == "packed",
            parse.GetValue(_eventIdx) == "on", parse.GetValue(_indirect) == "on", parse.GetValue(_blockSize),
            ParsePattern(parse.GetValue(_rw)!), parse.GetValue(_spawn), parse.GetValue(_compare) is { Length: > 0 } compare ? compare : null,
            parse.GetValue(_repeat), parse.GetValue(_benchCpu), parse.GetValue(_daemonCpu));
    }

    private static AccessPattern ParsePattern(string text) => text switch
    {
        "read" => AccessPattern.Read,
        "write" => AccessPattern.Write,
        "randwrite" => AccessPattern.RandWrite,
        _ => AccessPattern.RandRead,
    };

    private static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }
}
