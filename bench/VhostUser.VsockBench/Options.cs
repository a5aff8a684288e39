// Options.cs — the bench's command line (see Program.cs); null when it is not understood.
using System.Globalization;

namespace VhostUser.VsockBench;

internal sealed record Options(string Daemon, string[] Modes, int Repeat, double Seconds, double Warmup, int RxPayload, int GuestCpu, int HostCpu, int DaemonCpu)
{
    private static readonly string[] AllModes = ["h2g", "g2h", "connect-h2g", "connect-g2h", "unix", "tcp"];

    public static Options? Parse(string[] args)
    {
        var options = new Options("out/vhost-user-vsock", AllModes, 3, 5, 1, 4096, 0, 1, 1);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            options = args[i] switch
            {
                "--daemon" => options with { Daemon = value },
                "--modes" => options with { Modes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--repeat" => options with { Repeat = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seconds" => options with { Seconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--warmup" => options with { Warmup = double.Parse(value, CultureInfo.InvariantCulture) },
                "--rx-payload" => options with { RxPayload = int.Parse(value, CultureInfo.InvariantCulture) },
                "--guest-cpu" => options with { GuestCpu = int.Parse(value, CultureInfo.InvariantCulture) },
                "--host-cpu" => options with { HostCpu = int.Parse(value, CultureInfo.InvariantCulture) },
                "--daemon-cpu" => options with { DaemonCpu = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => null,
            };
            if (options is null)
            {
                return null;
            }
        }
        bool valid = args.Length % 2 == 0 && options.Repeat > 0 && options.Seconds > 0 && options.RxPayload is >= 1 and <= 1 << 20
            && options.Modes.Length > 0 && options.Modes.All(AllModes.Contains);
        return valid ? options : null;
    }
}
