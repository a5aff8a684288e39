namespace VhostUser.Tests.Infrastructure;

/// <summary>Finds the repository checkout the tests were built from.</summary>
public static class RepositoryPaths
{
    /// <summary>The directory holding Directory.Build.props and src/ (walks up from the test binaries).</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")) && Directory.Exists(Path.Combine(dir.FullName, "src", "VhostUser")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no repository root above {AppContext.BaseDirectory}");
    }
}
