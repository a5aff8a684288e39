// FsCompat.cs — virtiofsd's legacy command-line forms, rewritten into the separate options before
// parsing, so scripts written for it (Kata's "-o cache=auto -o no_posix_lock -o source=DIR", QEMU's
// own docs' "-o source=DIR", "-d", "-f", "--socket PATH") work unchanged:
//   -o a,b=c (or -oa,b=c), repeatable: each item as virtiofsd's compat parser takes it, the last
//      of a key winning; an option also given in its --name form keeps that value.
//   -d: --log-level debug; -f: nothing (we never fork); --socket PATH: --socket-path PATH.
// What virtiofsd accepts but we do not do (flock, killpriv_v2, security_label, xattrmap=,
// modcaps=, timeout=) is refused with a message, never dropped silently.
using VhostUser.Backend;

namespace VhostUser.Devices.Fs;

internal static class FsCompat
{
    /// <summary>Rewrites <paramref name="args"/>; throws <see cref="DaemonOptionsException"/> for an item we do not take.</summary>
    public static string[] Expand(string[] args)
    {
        var rest = new List<string>();
        // Option name → its arguments ([] for a flag, null: explicitly off), in the order first set.
        var compat = new Dictionary<string, string[]?>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                rest.AddRange(args[i..]);
                break;
            }
            if (arg == "-o" || (arg.StartsWith("-o", StringComparison.Ordinal) && !arg.StartsWith("--", StringComparison.Ordinal)))
            {
                string items = arg.Length > 2 ? arg[2..].TrimStart('=') : i + 1 < args.Length ? args[++i] : throw new DaemonOptionsException("-o needs a value, e.g. -o source=DIR,cache=auto");
                foreach (string item in items.Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    Apply(compat, item);
                }
            }
            else if (arg == "-d")
            {
                compat["--log-level"] = ["debug"];
            }
            else if (arg == "-f")
            {
                // virtiofsd's foreground flag: we always run in the foreground
            }
            else if (arg == "--socket")
            {
                rest.Add("--socket-path");
            }
            else if (arg.StartsWith("--socket=", StringComparison.Ordinal))
            {
                rest.Add("--socket-path=" + arg["--socket=".Length..]);
            }
            else
            {
                rest.Add(arg);
            }
        }
        var expanded = new List<string>();
        foreach (var (name, values) in compat)
        {
            if (values is null || Given(rest, name) || (name == "--no-announce-submounts" && Given(rest, "--announce-submounts")))
            {
                continue; // off, or the --name form was given and wins
            }
            expanded.Add(name);
            expanded.AddRange(values);
        }
        return [.. expanded, .. rest];
    }

    private static void Apply(Dictionary<string, string[]?> compat, string item)
    {
        int equals = item.IndexOf('=', StringComparison.Ordinal);
        string key = equals < 0 ? item : item[..equals];
        string value = equals < 0 ? "" : item[(equals + 1)..];
        switch (equals < 0 ? key : key + "=")
        {
            case "source=": compat["--shared-dir"] = [value]; break;
            case "cache=": compat["--cache"] = [value == "none" ? "never" : value]; break;
            case "sandbox=": compat["--sandbox"] = [value]; break;
            case "loglevel=" or "log_level=": compat["--log-level"] = [value == "err" ? "error" : value]; break;
            case "debug": compat["--log-level"] = ["debug"]; break;
            case "xattr": compat["--xattr"] = []; break;
            case "no_xattr": compat["--xattr"] = null; break;
            case "posix_acl": compat["--posix-acl"] = []; compat["--xattr"] = []; break; // virtiofsd: posix_acl implies xattr
            case "no_posix_acl": compat["--posix-acl"] = null; break;
            case "writeback": compat["--writeback"] = []; break;
            case "no_writeback": compat["--writeback"] = null; break;
            case "readdirplus": compat["--no-readdirplus"] = null; break;
            case "no_readdirplus": compat["--no-readdirplus"] = []; break;
            case "allow_direct_io": compat["--allow-direct-io"] = []; break;
            case "no_allow_direct_io": compat["--allow-direct-io"] = null; break;
            case "announce_submounts": compat["--no-announce-submounts"] = null; break;
            case "no_announce_submounts": compat["--no-announce-submounts"] = []; break;
            case "posix_lock": compat["--no-posix-lock"] = null; break;
            case "no_posix_lock": compat["--no-posix-lock"] = []; break;
            case "no_flock" or "no_killpriv_v2" or "no_security_label" or "norace": break; // what we do anyway
            case "flock": throw new DaemonOptionsException("-o flock: flock() locks are not served (POSIX locks are; the guest keeps flock locally)");
            case "killpriv_v2": throw new DaemonOptionsException("-o killpriv_v2: HANDLE_KILLPRIV_V2 is not offered (set-id bits are cleared as the guest kernel asks)");
            case "security_label": throw new DaemonOptionsException("-o security_label: security labels on create are not supported");
            case "xattrmap=" or "modcaps=" or "timeout=":
                throw new DaemonOptionsException($"-o {key}=: not supported by vhost-user-fs");
            default:
                throw new DaemonOptionsException($"-o {item}: unknown legacy option (see --help for -o and the --name options)");
        }
    }

    /// <summary>True if <paramref name="name"/> appears as "--name" or "--name=value".</summary>
    private static bool Given(List<string> args, string name) =>
        args.Any(a => a == name || a.StartsWith(name + "=", StringComparison.Ordinal));
}
