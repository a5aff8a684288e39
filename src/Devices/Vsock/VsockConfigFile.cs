// VsockConfigFile.cs — --config FILE: the guests as YAML, in the shape vhost-device-vsock reads:
//
//   vms:
//     - guest_cid: 3
//       socket: /tmp/vhost3.socket
//       uds_path: /tmp/vm3.vsock
//       groups: group1+groupA
//
// Only this subset of YAML is accepted (a "vms" list of flat key: value maps, plain or quoted
// scalars, # comments); anything else is an error with its line number rather than a guess.
using VhostUser.Backend;

namespace VhostUser.Devices.Vsock;

/// <summary>Reads the YAML configuration file.</summary>
internal static class VsockConfigFile
{
    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    public static IReadOnlyList<VsockVmOptions> Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DaemonOptionsException($"--config {path}: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses configuration text; <paramref name="name"/> is used in messages.</summary>
    public static IReadOnlyList<VsockVmOptions> Parse(string text, string name)
    {
        var items = new List<(Dictionary<string, string> Values, int Line)>();
        Dictionary<string, string>? current = null;
        int itemIndent = -1;
        bool inVms = false;
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string where = $"--config {name} line {i + 1}: ";
            string line = StripComment(lines[i].TrimEnd('\r')).TrimEnd();
            if (line.Trim().Length == 0)
            {
                continue;
            }
            int indent = line.Length - line.TrimStart(' ').Length;
            string content = line.Trim();
            if (content.Contains('\t', StringComparison.Ordinal))
            {
                throw new DaemonOptionsException($"{where}tabs are not allowed in YAML indentation");
            }
            if (indent == 0)
            {
                if (content != "vms:")
                {
                    throw new DaemonOptionsException($"{where}expected 'vms:' (a list of guests), found '{content}'");
                }
                inVms = true;
                continue;
            }
            if (!inVms)
            {
                throw new DaemonOptionsException($"{where}expected 'vms:' first");
            }
            if (content.StartsWith('-'))
            {
                current = [];
                items.Add((current, i + 1));
                itemIndent = indent;
                content = content[1..].TrimStart();
                if (content.Length == 0)
                {
                    continue;
                }
                indent += line[indent..].IndexOf(content, StringComparison.Ordinal);
            }
            else if (current is null || indent <= itemIndent)
            {
                throw new DaemonOptionsException($"{where}expected '- ' starting a guest entry, found '{content}'");
            }
            AddPair(current, content, where);
        }
        if (items.Count == 0)
        {
            throw new DaemonOptionsException($"--config {name}: no guests under 'vms:'");
        }
        return items.Select(item => VsockVmOptions.FromKeys(item.Values, $"--config {name} entry at line {item.Line}: ")).ToList();
    }

    private static void AddPair(Dictionary<string, string> values, string content, string where)
    {
        int colon = content.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new DaemonOptionsException($"{where}expected 'key: value', found '{content}'");
        }
        string key = VsockVmOptions.NormalizeKey(content[..colon].Trim());
        string value = Unquote(content[(colon + 1)..].Trim(), where);
        if (!values.TryAdd(key, value))
        {
            throw new DaemonOptionsException($"{where}{key} is given twice for this guest");
        }
    }

    private static string Unquote(string value, string where)
    {
        if (value.Length > 0 && (value[0] == '"' || value[0] == '\''))
        {
            if (value.Length < 2 || value[^1] != value[0])
            {
                throw new DaemonOptionsException($"{where}unterminated quoted value {value}");
            }
            return value[1..^1];
        }
        return value;
    }

    /// <summary>Removes a # comment that starts a line or follows a space, outside quotes.</summary>
    private static string StripComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }
        return line;
    }
}
