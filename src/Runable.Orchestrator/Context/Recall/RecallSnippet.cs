using System.Text;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// Where in an event's text the question's words stand together: the stretch of one line, at most a given width,
/// holding the greatest weight of distinct query words, which ranks events (the line that holds the rare words of the
/// question) and places the snippet shown for a hit. The index is contentless (the text lives once, in the event log), so this
/// is done here rather than by FTS5. A word matches at the start of a word of the text by its first few letters, so
/// <c>failing</c> finds <c>failed</c> as the index's stemming does.
/// </summary>
internal static class RecallSnippet
{
    /// <summary>The default snippet width, in characters.</summary>
    public const int DefaultWidth = 240;

    /// <summary>
    /// The start of the window of at most <paramref name="width"/> characters within one line, among those starting at a
    /// word of <paramref name="words"/> between <paramref name="from"/> and <paramref name="to"/>, with the greatest total
    /// weight of distinct words, and that weight; (from, 0) when no word is there. <paramref name="lowered"/> is the text
    /// lowercased (<see cref="string.ToLowerInvariant()"/>, which keeps every character where it was).
    /// </summary>
    public static (int Start, double Weight) BestWindow(string lowered, IReadOnlyList<(string Word, double Weight)> words, int from, int to, int width)
    {
        ArgumentNullException.ThrowIfNull(lowered);
        ArgumentNullException.ThrowIfNull(words);
        var hits = Hits(lowered, words, from, to);
        if (hits.Count == 0)
        {
            return (from, 0);
        }

        var weights = words.Select(w => w.Weight).ToArray();

        // The line of each hit: a window holds words of one line only.
        var lines = new int[hits.Count];
        for (int h = 0, line = 0, scanned = hits[0].Position; h < hits.Count; h++)
        {
            for (; scanned < hits[h].Position; scanned++)
            {
                line += lowered[scanned] == '\n' ? 1 : 0;
            }

            lines[h] = line;
        }

        var counts = new int[weights.Length];
        var weight = 0.0;
        var best = (Start: hits[0].Position, Weight: 0.0);
        var left = 0;
        for (var right = 0; right < hits.Count; right++)
        {
            if (counts[hits[right].Word]++ == 0)
            {
                weight += weights[hits[right].Word];
            }

            while (hits[right].Position - hits[left].Position > width || lines[left] != lines[right])
            {
                if (--counts[hits[left].Word] == 0)
                {
                    weight -= weights[hits[left].Word];
                }

                left++;
            }

            if (weight > best.Weight + 1e-9)
            {
                best = (hits[left].Position, weight);
            }
        }

        return best;
    }

    /// <summary>The snippet of <paramref name="text"/> around its best window of words between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public static string Of(string text, IReadOnlyList<(string Word, double Weight)> words, int from = 0, int to = int.MaxValue, int width = DefaultWidth)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= width)
        {
            return OneLine(text, 0, text.Length);
        }

        var (found, _) = BestWindow(text.ToLowerInvariant(), words, Math.Clamp(from, 0, text.Length), Math.Min(to, text.Length), width * 3 / 4);

        // Some context before the window, starting at a word boundary.
        var start = Math.Max(0, found - (width / 6));
        while (start > 0 && start < found && !char.IsWhiteSpace(text[start - 1]))
        {
            start++;
        }

        var end = Math.Min(text.Length, start + width);
        if (end == text.Length)
        {
            start = Math.Max(0, end - width);
        }

        return OneLine(text, start, end);
    }

    /// <summary>Where each word occurs at the start of a word of <paramref name="text"/> (lowercased) between <paramref name="from"/> and <paramref name="to"/>, in text order.</summary>
    private static List<(int Position, int Word)> Hits(string text, IReadOnlyList<(string Word, double Weight)> words, int from, int to)
    {
        var hits = new List<(int, int)>();
        for (var w = 0; w < words.Count; w++)
        {
            var word = words[w].Word;
            var prefix = word.Length <= 4 ? word : word[..Math.Max(4, word.Length - 3)];
            var end = Math.Min(to, text.Length);
            for (var at = Find(text, prefix, Math.Clamp(from, 0, text.Length), end); at >= 0 && hits.Count < 20_000; at = Find(text, prefix, at + prefix.Length, end))
            {
                if (at == 0 || !RecallQuery.IsWordChar(text[at - 1]))
                {
                    hits.Add((at, w));
                }
            }
        }

        hits.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return hits;
    }

    /// <summary>Where <paramref name="prefix"/> next starts between <paramref name="start"/> and <paramref name="end"/>; -1 when nowhere.</summary>
    private static int Find(string text, string prefix, int start, int end) =>
        start >= end ? -1 : text.IndexOf(prefix, start, end - start, StringComparison.Ordinal);

    private static string OneLine(string text, int start, int end)
    {
        var line = new StringBuilder(end - start + 2);
        if (start > 0)
        {
            line.Append('…');
        }

        var space = false;
        for (var i = start; i < end; i++)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                space = true;
                continue;
            }

            if (space && line.Length > 0 && line[^1] != '…')
            {
                line.Append(' ');
            }

            space = false;
            line.Append(text[i]);
        }

        if (end < text.Length)
        {
            line.Append('…');
        }

        return line.ToString();
    }
}
