// Reads the guest's serial console for the result protocol (rig/guest/check.sh):
//   VHOSTD-BOOT …            /init started (once per boot)
//   VHOSTD-STAGE n           which boot of a multi-stage run this is
//   VHOSTD-RESULT PASS name | VHOSTD-RESULT FAIL name reason
//   VHOSTD-INFO key value
//   VHOSTD-REBOOT …          the guest is rebooting into the next stage
//   VHOSTD-DONE              the last check has run
// The markers are searched anywhere in a line, since kernel messages can share a line with them.
// Around a reset or power-off the 8250 console has been seen to send its last lines twice, so an
// exact repeat of a protocol line already seen in the same stage is ignored.
using System.Text.RegularExpressions;

namespace VhostUser.EndToEnd;

internal sealed partial class SerialProtocol
{
    private readonly HashSet<string> _seen = [];
    private readonly List<GuestCheck> _checks = [];
    private readonly List<KeyValuePair<string, string>> _info = [];

    public int Stage { get; private set; } = 1;

    public int Boots { get; private set; }

    public bool Done { get; private set; }

    public int DoneStage { get; private set; }

    public IReadOnlyList<GuestCheck> Checks => _checks;

    public IReadOnlyList<KeyValuePair<string, string>> Info => _info;

    /// <summary>Takes one console line; returns the protocol event name, or null for other output.</summary>
    public string? Accept(string line)
    {
        var m = Marker().Match(line);
        if (!m.Success)
        {
            return null;
        }

        var kind = m.Groups["kind"].Value;
        var rest = m.Groups["rest"].Value.Trim();
        if (kind is not "BOOT" && !_seen.Add($"{Stage}|{kind}|{rest}"))
        {
            return null;
        }

        switch (kind)
        {
            case "BOOT":
                Boots++;
                _seen.Clear();
                break;
            case "STAGE":
                Stage = int.TryParse(rest, out var stage) ? stage : Stage;
                break;
            case "RESULT":
                AddResult(rest);
                break;
            case "INFO":
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                _info.Add(space < 0 ? new(rest, "") : new(rest[..space], rest[(space + 1)..]));
                break;
            case "DONE":
                Done = true;
                DoneStage = Stage;
                break;
            default:
                break;
        }

        return kind;
    }

    private void AddResult(string rest)
    {
        var parts = rest.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 2)
        {
            var passed = parts[0] == "PASS";
            _checks.Add(new GuestCheck(Stage, parts[1], passed, passed ? "" : parts.Length > 2 ? parts[2] : "failed"));
        }
    }

    [GeneratedRegex(@"VHOSTD-(?<kind>BOOT|STAGE|RESULT|INFO|REBOOT|DONE)\b(?<rest>.*)$")]
    private static partial Regex Marker();
}
