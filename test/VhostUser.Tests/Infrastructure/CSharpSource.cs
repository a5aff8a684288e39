// CSharpSource.cs — just enough C# lexing for source rules: blanks out comments, string and char
// literals (keeping line breaks, so line numbers stay), leaving code to be searched.
using System.Text;

namespace VhostUser.Tests.Infrastructure;

public static class CSharpSource
{
    /// <summary>The text with every comment and literal replaced by spaces.</summary>
    public static string CodeOnly(string text)
    {
        var output = new StringBuilder(text.Length);
        int i = 0;
        ScanCode(text, ref i, output, interpolationDepth: 0);
        return output.ToString();
    }

    /// <summary>Copies code until the end, or until the '}' closing an interpolation hole.</summary>
    private static void ScanCode(string text, ref int i, StringBuilder output, int interpolationDepth)
    {
        int braces = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '/' && Next(text, i) == '/')
            {
                Blank(text, ref i, output, text.IndexOf('\n', i) is var end && end < 0 ? text.Length : end);
            }
            else if (c == '/' && Next(text, i) == '*')
            {
                int close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                Blank(text, ref i, output, close < 0 ? text.Length : close + 2);
            }
            else if (c == '"' || (c is '@' or '$' && IsStringStart(text, i)))
            {
                ScanString(text, ref i, output);
            }
            else if (c == '\'')
            {
                int close = i + 1;
                while (close < text.Length && text[close] != '\'')
                {
                    close += text[close] == '\\' ? 2 : 1;
                }
                Blank(text, ref i, output, Math.Min(close + 1, text.Length));
            }
            else
            {
                if (interpolationDepth > 0 && c == '{')
                {
                    braces++;
                }
                else if (interpolationDepth > 0 && c == '}' && braces-- == 0)
                {
                    return; // the hole ends; the caller resumes the string
                }
                output.Append(c);
                i++;
            }
        }
    }

    private static void ScanString(string text, ref int i, StringBuilder output)
    {
        bool verbatim = false, interpolated = false;
        while (text[i] is '@' or '$')
        {
            verbatim |= text[i] == '@';
            interpolated |= text[i] == '$';
            output.Append(' ');
            i++;
        }
        int quotes = CountQuotes(text, i);
        if (quotes >= 3)
        {
            // Raw string literal: ends at the same run of quotes (holes are not scanned).
            int close = text.IndexOf(new string('"', quotes), i + quotes, StringComparison.Ordinal);
            Blank(text, ref i, output, close < 0 ? text.Length : close + quotes);
            return;
        }
        output.Append(' ');
        i++;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"' && verbatim && Next(text, i) == '"')
            {
                Blank(text, ref i, output, i + 2);
            }
            else if (c == '"')
            {
                output.Append(' ');
                i++;
                return;
            }
            else if (c == '\\' && !verbatim)
            {
                Blank(text, ref i, output, Math.Min(i + 2, text.Length));
            }
            else if (interpolated && c == '{' && Next(text, i) == '{')
            {
                Blank(text, ref i, output, i + 2);
            }
            else if (interpolated && c == '{')
            {
                output.Append(' ');
                i++;
                ScanCode(text, ref i, output, interpolationDepth: 1);
                if (i < text.Length)
                {
                    output.Append(' ');
                    i++;
                }
            }
            else
            {
                Blank(text, ref i, output, i + 1);
            }
        }
    }

    private static bool IsStringStart(string text, int i)
    {
        while (i < text.Length && text[i] is '@' or '$')
        {
            i++;
        }
        return i < text.Length && text[i] == '"';
    }

    private static int CountQuotes(string text, int i)
    {
        int count = 0;
        while (i + count < text.Length && text[i + count] == '"')
        {
            count++;
        }
        return count;
    }

    private static char Next(string text, int i) => i + 1 < text.Length ? text[i + 1] : '\0';

    /// <summary>Replaces text[i..end) with spaces, keeping line breaks.</summary>
    private static void Blank(string text, ref int i, StringBuilder output, int end)
    {
        for (; i < end; i++)
        {
            output.Append(text[i] is '\n' or '\r' ? text[i] : ' ');
        }
    }
}
