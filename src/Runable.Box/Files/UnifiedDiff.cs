using System.Text;

namespace Runable.Box.Files;

/// <summary>Renders the change between two versions of a text as a unified diff with three lines of context.</summary>
public static class UnifiedDiff
{
    private const int Context = 3;

    /// <summary>
    /// A unified diff of <paramref name="before"/> and <paramref name="after"/>. The changed lines form one
    /// hunk between the longest common prefix and suffix, which is exact for a single edit.
    /// </summary>
    public static string Create(string path, string before, string after)
    {
        var oldLines = SplitLines(before);
        var newLines = SplitLines(after);
        var prefix = 0;
        while (prefix < oldLines.Count && prefix < newLines.Count && oldLines[prefix] == newLines[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < oldLines.Count - prefix && suffix < newLines.Count - prefix &&
               oldLines[oldLines.Count - 1 - suffix] == newLines[newLines.Count - 1 - suffix])
        {
            suffix++;
        }

        var text = new StringBuilder();
        text.Append("--- a/").Append(path).Append('\n');
        text.Append("+++ b/").Append(path).Append('\n');
        if (prefix == oldLines.Count && prefix == newLines.Count)
        {
            return text.ToString();
        }

        var start = Math.Max(0, prefix - Context);
        var oldEnd = Math.Min(oldLines.Count, oldLines.Count - suffix + Context);
        var newEnd = Math.Min(newLines.Count, newLines.Count - suffix + Context);
        var oldCount = oldEnd - start;
        var newCount = newEnd - start;
        text.Append("@@ -").Append(HunkStart(start, oldCount)).Append(',').Append(oldCount)
            .Append(" +").Append(HunkStart(start, newCount)).Append(',').Append(newCount).Append(" @@\n");
        for (var i = start; i < prefix; i++)
        {
            AppendLine(text, ' ', oldLines[i]);
        }

        for (var i = prefix; i < oldLines.Count - suffix; i++)
        {
            AppendLine(text, '-', oldLines[i]);
        }

        for (var i = prefix; i < newLines.Count - suffix; i++)
        {
            AppendLine(text, '+', newLines[i]);
        }

        for (var i = oldLines.Count - suffix; i < oldEnd; i++)
        {
            AppendLine(text, ' ', oldLines[i]);
        }

        return text.ToString();
    }

    private static int HunkStart(int start, int count) => count == 0 ? start : start + 1;

    private static void AppendLine(StringBuilder text, char marker, string line)
    {
        text.Append(marker);
        if (line.EndsWith('\n'))
        {
            text.Append(line);
        }
        else
        {
            text.Append(line).Append("\n\\ No newline at end of file\n");
        }
    }

    /// <summary>Splits text into lines that keep their '\n'; the last line may lack it.</summary>
    public static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var newline = text.IndexOf('\n', start);
            if (newline < 0)
            {
                lines.Add(text[start..]);
                break;
            }

            lines.Add(text[start..(newline + 1)]);
            start = newline + 1;
        }

        return lines;
    }
}
