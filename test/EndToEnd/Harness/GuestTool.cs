// GuestTool.cs — the project's own guest programs (C sources beside the tests that run them, such
// as Vsock/vsock-tool.c and Fs/fsprobe.c), built with the host's gcc into the rig cache whenever
// the source is newer than the binary, and put on PATH, where the initramfs builder looks for the
// tools a run names. Used by the guest tests and the demo.
using System.Diagnostics;

namespace VhostUser.EndToEnd;

/// <summary>Builds a guest helper program from its C source.</summary>
public static class GuestTool
{
    private static readonly Lock BuildLock = new();

    /// <summary>
    /// Builds <c>test/EndToEnd/<paramref name="source"/></c> into <c>.cache/tools/<paramref name="name"/></c>
    /// (statically linked with <paramref name="isStatic"/>), puts that folder on PATH and returns
    /// the binary's path. Throws <see cref="RigUnavailableException"/> when gcc is missing or fails.
    /// </summary>
    public static string Build(string name, string source, bool isStatic, RigPaths? paths = null)
    {
        paths ??= RigPaths.Discover();
        string directory = Path.Combine(paths.Cache, "tools");
        string binary = Path.Combine(directory, name);
        string sourcePath = Path.Combine(paths.RepoRoot, "test", "EndToEnd", source);
        lock (BuildLock)
        {
            if (!File.Exists(binary) || File.GetLastWriteTimeUtc(binary) < File.GetLastWriteTimeUtc(sourcePath))
            {
                Directory.CreateDirectory(directory);
                string temporary = $"{binary}.{Environment.ProcessId}.tmp"; // another process may build it too
                Compile(sourcePath, temporary, isStatic);
                File.Move(temporary, binary, overwrite: true);
            }
            string path = Environment.GetEnvironmentVariable("PATH") ?? "";
            if (!path.Split(':').Contains(directory))
            {
                Environment.SetEnvironmentVariable("PATH", directory + ":" + path);
            }
        }
        return binary;
    }

    private static void Compile(string source, string output, bool isStatic)
    {
        var start = new ProcessStartInfo("gcc") { RedirectStandardError = true };
        foreach (string argument in (string[])[.. isStatic ? ["-static"] : Array.Empty<string>(), "-O2", "-Wall", "-o", output, source])
        {
            start.ArgumentList.Add(argument);
        }
        string errors;
        int exitCode;
        try
        {
            using var gcc = Process.Start(start) ?? throw new RigUnavailableException("cannot start gcc");
            errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            exitCode = gcc.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RigUnavailableException($"gcc is needed to build {source} ({e.Message}): sudo test/EndToEnd/rig/fetch-assets.sh installs it", e);
        }
        if (exitCode != 0)
        {
            File.Delete(output);
            throw new RigUnavailableException($"gcc{(isStatic ? " -static" : "")} could not build {source} (sudo test/EndToEnd/rig/fetch-assets.sh installs gcc and libc6-dev): {errors}");
        }
    }
}
