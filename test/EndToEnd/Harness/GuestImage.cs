// Builds (or reuses: the builder caches by content hash) the initramfs for a guest run by calling
// rig/build-initramfs.sh, which owns the image layout.
using System.Diagnostics;

namespace VhostUser.EndToEnd;

/// <summary>Initramfs images for guest runs.</summary>
public static class GuestImage
{
    /// <summary>The preamble given to a script that has no #! line of its own.</summary>
    public const string ScriptPreamble = "#!/bin/sh\n# guest test script (runs as /test.sh)\n. /lib/check.sh\n";

    /// <summary>Builds the image and returns its path in the cache.</summary>
    /// <param name="paths">Rig locations.</param>
    /// <param name="script">The guest test script (check.sh is sourced for it unless it starts with #!).</param>
    /// <param name="modules">Kernel modules to load (dependencies are added).</param>
    /// <param name="tools">Host programs to copy in with their libraries.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    public static async Task<string> BuildAsync(RigPaths paths, string script, IEnumerable<string> modules,
        IEnumerable<string> tools, CancellationToken cancellationToken = default)
    {
        var scriptFile = Path.GetTempFileName();
        try
        {
            var text = script.StartsWith("#!", StringComparison.Ordinal) ? script : ScriptPreamble + script;
            await File.WriteAllTextAsync(scriptFile, text.ReplaceLineEndings("\n"), cancellationToken).ConfigureAwait(false);
            var info = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(paths.BuildInitramfsScript);
            info.ArgumentList.Add("--modules");
            info.ArgumentList.Add(string.Join(' ', modules));
            info.ArgumentList.Add("--tools");
            info.ArgumentList.Add(string.Join(' ', tools));
            info.ArgumentList.Add("--script");
            info.ArgumentList.Add(scriptFile);
            info.Environment["VHOSTD_CACHE"] = paths.Cache;
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var image = (await stdout.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0 || !File.Exists(image))
            {
                throw new InvalidOperationException(
                    $"build-initramfs.sh failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
            }

            return image;
        }
        finally
        {
            File.Delete(scriptFile);
        }
    }
}
