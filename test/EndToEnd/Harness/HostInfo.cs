// Facts about the host that shape the QEMU command line: whether KVM can run a stock guest here
// (it needs /dev/kvm AND vmx/svm in /proc/cpuinfo; the nested paravirtual KVM of these machines
// has neither flag and fails on a stock kernel, see shared/reference/guest-testing.md) and the
// host TSC frequency, passed to microvm guests as tsc_early_khz so a busy host cannot make their
// TSC calibration hang.
namespace VhostUser.EndToEnd;

/// <summary>The accelerator QEMU uses.</summary>
public enum Accelerator
{
    /// <summary>Software emulation (<c>-accel tcg -cpu max</c>).</summary>
    Tcg,

    /// <summary>Hardware virtualization (<c>-accel kvm -cpu host</c>).</summary>
    Kvm,
}

/// <summary>Host facts, read once.</summary>
public static class HostInfo
{
    private static readonly Lazy<(Accelerator Accelerator, string Reason)> Detected = new(Detect);
    private static readonly Lazy<int?> Tsc = new(ReadTscKhz);

    /// <summary>The accelerator guest runs use.</summary>
    public static Accelerator Accelerator => Detected.Value.Accelerator;

    /// <summary>Why that accelerator was chosen, for test output.</summary>
    public static string AcceleratorReason => Detected.Value.Reason;

    /// <summary>The host TSC frequency in kHz, when /proc/cpuinfo tells it.</summary>
    public static int? TscKhz => Tsc.Value;

    /// <summary>Whether this run is under CI (CI=true), where missing assets fail instead of skip.</summary>
    public static bool IsCI =>
        Environment.GetEnvironmentVariable("CI") is { } ci
        && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    private static (Accelerator, string) Detect()
    {
        var forced = Environment.GetEnvironmentVariable("VHOSTD_ACCEL");
        if (string.Equals(forced, "tcg", StringComparison.OrdinalIgnoreCase))
        {
            return (Accelerator.Tcg, "TCG (forced by VHOSTD_ACCEL=tcg)");
        }

        if (!File.Exists("/dev/kvm"))
        {
            return (Accelerator.Tcg, "TCG (no /dev/kvm)");
        }

        var flags = File.ReadLines("/proc/cpuinfo")
            .FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        var words = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Contains("vmx") || words.Contains("svm")
            ? (Accelerator.Kvm, "KVM (/dev/kvm and vmx/svm present)")
            : (Accelerator.Tcg, "TCG (/dev/kvm exists but the CPU has no vmx/svm flag: nested paravirtual KVM cannot run a stock guest)");
    }

    private static int? ReadTscKhz()
    {
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal)
                && double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(),
                    System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
                    out var mhz))
            {
                return (int)(mhz * 1000);
            }
        }

        return null;
    }
}
