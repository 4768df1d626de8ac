namespace Runable.Orchestrator.Agents.Tools;

/// <summary>A text cut to its head and tail, and what was left out between them.</summary>
/// <param name="Head">The start of the text, ending at a line break where possible.</param>
/// <param name="Tail">The end of the text, starting at a line start where possible.</param>
/// <param name="OmittedChars">Characters left out.</param>
/// <param name="FirstOmittedLine">The first line (1-based) left out, whole or in part.</param>
/// <param name="LastOmittedLine">The last line left out, whole or in part.</param>
/// <param name="TotalLines">Lines in the whole text.</param>
internal sealed record TextCut(string Head, string Tail, int OmittedChars, int FirstOmittedLine, int LastOmittedLine, int TotalLines)
{
    /// <summary>Cuts <paramref name="text"/> to at most <paramref name="maxChars"/> characters and <paramref name="maxLines"/> lines, or returns null when it fits.</summary>
    public static TextCut? Cut(string text, int maxChars, int maxLines)
    {
        var totalLines = CountLines(text);
        if (text.Length <= maxChars && totalLines <= maxLines)
        {
            return null;
        }

        // Half of each budget for the head, half for the tail: errors and summaries tend to be at the end.
        var headEnd = HeadEnd(text, maxChars / 2, maxLines / 2);
        var tailStart = TailStart(text, maxChars - maxChars / 2, maxLines - maxLines / 2, headEnd);
        if (tailStart <= headEnd)
        {
            return null;
        }

        var middle = text.AsSpan(headEnd, tailStart - headEnd);
        var firstOmitted = text.AsSpan(0, headEnd).Count('\n') + 1;
        var breaks = middle.Count('\n');
        var lastOmitted = firstOmitted + breaks - (middle[^1] == '\n' ? 1 : 0);
        return new TextCut(text[..headEnd], text[tailStart..], tailStart - headEnd, firstOmitted, Math.Max(firstOmitted, lastOmitted), totalLines);
    }

    /// <summary>Lines in a text; a final line break does not start another line.</summary>
    public static int CountLines(string text) =>
        text.Length == 0 ? 0 : text.AsSpan().Count('\n') + (text.EndsWith('\n') ? 0 : 1);

    private static int HeadEnd(string text, int chars, int lines)
    {
        var end = 0;
        for (var line = 0; line < lines; line++)
        {
            var next = text.IndexOf('\n', end);
            var lineEnd = next < 0 ? text.Length : next + 1;
            if (lineEnd > chars)
            {
                // A line longer than what is left: cut inside it only when nothing else fits.
                return end > 0 ? end : SafeCut(text, chars);
            }

            end = lineEnd;
            if (end == text.Length)
            {
                break;
            }
        }

        return end;
    }

    private static int TailStart(string text, int chars, int lines, int floor)
    {
        var start = text.Length;
        var searchFrom = text.EndsWith('\n') ? text.Length - 2 : text.Length - 1;
        for (var line = 0; line < lines && start > floor; line++)
        {
            var previous = searchFrom < 0 ? -1 : text.LastIndexOf('\n', searchFrom);
            var lineStart = Math.Max(previous + 1, floor);
            if (text.Length - lineStart > chars)
            {
                return Math.Max(start < text.Length ? start : SafeCut(text, text.Length - chars), floor);
            }

            start = lineStart;
            searchFrom = previous - 1;
            if (previous < 0)
            {
                break;
            }
        }

        return Math.Max(start, floor);
    }

    /// <summary>A cut position that does not split a surrogate pair.</summary>
    private static int SafeCut(string text, int index) =>
        index > 0 && index < text.Length && char.IsLowSurrogate(text[index]) ? index - 1 : index;
}
