using System.Globalization;
using System.Text.RegularExpressions;

namespace Runable.Web.Components.Sandbox;

/// <summary>A unified diff (git's) read into files, hunks and numbered lines, for showing unified or side by side.</summary>
public static partial class UnifiedDiff
{
    /// <summary>The files of <paramref name="patch"/>, in order.</summary>
    public static IReadOnlyList<DiffFile> Parse(string patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var files = new List<DiffFile>();
        DiffFile? file = null;
        DiffHunk? hunk = null;
        int oldLine = 0, newLine = 0;
        foreach (var raw in patch.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("diff --git ", StringComparison.Ordinal))
            {
                var match = GitHeader().Match(line);
                file = new DiffFile { OldPath = match.Success ? match.Groups[1].Value : line[11..], NewPath = match.Success ? match.Groups[2].Value : line[11..] };
                files.Add(file);
                hunk = null;
                continue;
            }

            if (file is null)
            {
                continue;
            }

            if (hunk is null || !(line.Length == 0 || line[0] is ' ' or '+' or '-' or '\\') || line.StartsWith("@@", StringComparison.Ordinal))
            {
                if (line.StartsWith("@@", StringComparison.Ordinal) && HunkHeader().Match(line) is { Success: true } h)
                {
                    oldLine = int.Parse(h.Groups[1].Value, CultureInfo.InvariantCulture);
                    newLine = int.Parse(h.Groups[2].Value, CultureInfo.InvariantCulture);
                    hunk = new DiffHunk(line);
                    file.Hunks.Add(hunk);
                }
                else if (line.StartsWith("new file", StringComparison.Ordinal))
                {
                    file.IsNew = true;
                }
                else if (line.StartsWith("deleted file", StringComparison.Ordinal))
                {
                    file.IsDeleted = true;
                }
                else if (line.StartsWith("Binary files", StringComparison.Ordinal) || line.StartsWith("GIT binary patch", StringComparison.Ordinal))
                {
                    file.IsBinary = true;
                }
                else if (line.StartsWith("rename to ", StringComparison.Ordinal))
                {
                    file.NewPath = line[10..];
                }

                continue;
            }

            if (line.Length == 0 && hunk.Lines.Count > 0 && raw.Length == 0)
            {
                // The patch's last newline, or an empty context line that lost its leading space.
                continue;
            }

            switch (line.Length == 0 ? ' ' : line[0])
            {
                case '+':
                    hunk.Lines.Add(new DiffLine(DiffLineKind.Added, line[1..], null, newLine++));
                    file.Added++;
                    break;
                case '-':
                    hunk.Lines.Add(new DiffLine(DiffLineKind.Removed, line[1..], oldLine++, null));
                    file.Removed++;
                    break;
                case '\\':
                    hunk.Lines.Add(new DiffLine(DiffLineKind.Note, line, null, null));
                    break;
                default:
                    hunk.Lines.Add(new DiffLine(DiffLineKind.Context, line.Length == 0 ? "" : line[1..], oldLine++, newLine++));
                    break;
            }
        }

        return files;
    }

    /// <summary>The lines of a hunk paired for side by side: removed lines next to the added lines that replace them.</summary>
    public static IReadOnlyList<(DiffLine? Left, DiffLine? Right)> SideBySide(DiffHunk hunk)
    {
        ArgumentNullException.ThrowIfNull(hunk);
        var rows = new List<(DiffLine?, DiffLine?)>();
        var removed = new List<DiffLine>();
        var added = new List<DiffLine>();
        void Flush()
        {
            for (var i = 0; i < Math.Max(removed.Count, added.Count); i++)
            {
                rows.Add((i < removed.Count ? removed[i] : null, i < added.Count ? added[i] : null));
            }

            removed.Clear();
            added.Clear();
        }

        foreach (var line in hunk.Lines)
        {
            switch (line.Kind)
            {
                case DiffLineKind.Removed:
                    if (added.Count > 0)
                    {
                        Flush();
                    }

                    removed.Add(line);
                    break;
                case DiffLineKind.Added:
                    added.Add(line);
                    break;
                case DiffLineKind.Note:
                    break;
                default:
                    Flush();
                    rows.Add((line, line));
                    break;
            }
        }

        Flush();
        return rows;
    }

    [GeneratedRegex("^diff --git a/(.*) b/(.*)$")]
    private static partial Regex GitHeader();

    [GeneratedRegex(@"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")]
    private static partial Regex HunkHeader();
}
