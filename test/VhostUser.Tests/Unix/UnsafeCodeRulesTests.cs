// UnsafeCodeRulesTests.cs — design README 1.7 as a test: the `unsafe` keyword and the
// System.Runtime.CompilerServices.Unsafe class appear only under src/VhostUser/Unix/, every
// unsafe block there carries a `// SAFETY:` comment, and only the core project allows unsafe code.
using System.Text.RegularExpressions;
using VhostUser.Tests.Infrastructure;

namespace VhostUser.Tests.Unix;

public sealed partial class UnsafeCodeRulesTests
{
    /// <summary>How many lines around `unsafe {` may hold its SAFETY comment (before it, or first in the block).</summary>
    private const int SafetyWindowBefore = 3;
    private const int SafetyWindowAfter = 4;

    private static readonly string UnixFolder = Path.Combine(RepositoryPaths.Root, "src", "VhostUser", "Unix") + Path.DirectorySeparatorChar;

    [Fact]
    public void UnsafeKeyword_OutsideUnixFolder_NeverAppears()
    {
        var offenders = Find(UnsafeKeyword(), outsideUnixOnly: true);
        Assert.True(offenders.Count == 0, "`unsafe` outside src/VhostUser/Unix/:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void UnsafeClass_OutsideUnixFolder_NeverAppears()
    {
        var offenders = Find(UnsafeClass(), outsideUnixOnly: true);
        Assert.True(offenders.Count == 0, "the Unsafe class outside src/VhostUser/Unix/:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void UnsafeBlocks_InUnixFolder_HaveASafetyComment()
    {
        var missing = new List<string>();
        int blocks = 0;
        foreach (string file in Directory.EnumerateFiles(UnixFolder, "*.cs", SearchOption.AllDirectories))
        {
            string text = File.ReadAllText(file);
            string[] lines = text.Split('\n');
            foreach (Match match in UnsafeBlock().Matches(CSharpSource.CodeOnly(text)))
            {
                blocks++;
                int line = LineOf(text, match.Index);
                if (!HasSafetyComment(lines, line))
                {
                    missing.Add($"{Relative(file)}:{line + 1}");
                }
            }
        }
        Assert.True(blocks > 0, "no unsafe blocks found in src/VhostUser/Unix/: is the scanner broken?");
        Assert.True(missing.Count == 0, "unsafe blocks without a `// SAFETY:` comment:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void AllowUnsafeBlocks_OnlyInTheCoreProject()
    {
        var offenders = ProjectFiles()
            .Where(f => AllowUnsafeTrue().IsMatch(File.ReadAllText(f)))
            .Select(Relative)
            .ToList();
        Assert.Equal([Path.Combine("src", "VhostUser", "VhostUser.csproj")], offenders);
    }

    [Fact]
    public void CodeOnly_CommentsAndLiterals_AreBlankedButCodeIsKept()
    {
        string source = """"
            // unsafe in a comment
            /* Unsafe.SizeOf in a block comment */
            var s = "unsafe { }" + @"Unsafe ""x""" + $"{(a ? "unsafe" : b)} {{unsafe}}" + 'u';
            unsafe { }
            int n = Unsafe.SizeOf<int>();
            var raw = """unsafe { Unsafe }""";
            """";

        string code = CSharpSource.CodeOnly(source);

        Assert.Single(UnsafeBlock().Matches(code));
        Assert.Single(UnsafeClass().Matches(code));
        Assert.Equal(source.Split('\n').Length, code.Split('\n').Length);
        Assert.Contains("(a ?", code, StringComparison.Ordinal); // interpolation holes are code
    }

    private static List<string> Find(Regex pattern, bool outsideUnixOnly)
    {
        var found = new List<string>();
        foreach (string file in SourceFiles())
        {
            if (outsideUnixOnly && file.StartsWith(UnixFolder, StringComparison.Ordinal))
            {
                continue;
            }
            string text = File.ReadAllText(file);
            foreach (Match match in pattern.Matches(CSharpSource.CodeOnly(text)))
            {
                found.Add($"{Relative(file)}:{LineOf(text, match.Index) + 1}");
            }
        }
        return found;
    }

    private static IEnumerable<string> SourceFiles() => Scan("*.cs");

    private static IEnumerable<string> ProjectFiles() => Scan("*.csproj").Concat(Scan("*.props")).Concat(Scan("*.targets"))
        .Concat(Directory.EnumerateFiles(RepositoryPaths.Root, "Directory.*.props"));

    /// <summary>Files under src/, test/ and bench/, without build output.</summary>
    private static IEnumerable<string> Scan(string pattern)
    {
        foreach (string folder in new[] { "src", "test", "bench" })
        {
            string root = Path.Combine(RepositoryPaths.Root, folder);
            if (!Directory.Exists(root))
            {
                continue;
            }
            foreach (string file in Directory.EnumerateFiles(root, pattern, SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepositoryPaths.Root, file);
                if (!relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                {
                    yield return file;
                }
            }
        }
    }

    private static bool HasSafetyComment(string[] lines, int line)
    {
        for (int i = Math.Max(0, line - SafetyWindowBefore); i <= Math.Min(lines.Length - 1, line + SafetyWindowAfter); i++)
        {
            if (lines[i].TrimStart().StartsWith("// SAFETY:", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n');

    private static string Relative(string file) => Path.GetRelativePath(RepositoryPaths.Root, file);

    [GeneratedRegex(@"\bunsafe\b")]
    private static partial Regex UnsafeKeyword();

    [GeneratedRegex(@"\bunsafe\s*\{")]
    private static partial Regex UnsafeBlock();

    [GeneratedRegex(@"\bUnsafe\b")]
    private static partial Regex UnsafeClass();

    [GeneratedRegex(@"<AllowUnsafeBlocks>\s*true\s*</AllowUnsafeBlocks>", RegexOptions.IgnoreCase)]
    private static partial Regex AllowUnsafeTrue();
}
