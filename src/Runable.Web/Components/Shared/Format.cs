using System.Globalization;

namespace Runable.Web.Components.Shared;

/// <summary>How the UI writes durations, token counts, costs, sizes and times.</summary>
public static class Format
{
    /// <summary><c>12s</c>, <c>3m 05s</c>, <c>1h 02m</c>, <c>2d 03h</c>.</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m {span.Seconds:00}s"
            : span.TotalHours < 24 ? $"{(int)span.TotalHours}h {span.Minutes:00}m"
            : $"{(int)span.TotalDays}d {span.Hours:00}h";
    }

    /// <summary><c>950</c>, <c>12.3k</c>, <c>4.56M</c>.</summary>
    public static string Count(long n) =>
        n < 1000 ? n.ToString(CultureInfo.InvariantCulture)
        : n < 1_000_000 ? (n / 1000.0).ToString(n < 10_000 ? "0.0" : "0", CultureInfo.InvariantCulture) + "k"
        : (n / 1_000_000.0).ToString(n < 10_000_000 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "M";

    /// <summary><c>$0</c>, <c>$0.0042</c>, <c>$1.27</c>.</summary>
    public static string Cost(decimal usd) =>
        usd == 0 ? "$0" : "$" + usd.ToString(usd < 0.01m ? "0.####" : "0.00", CultureInfo.InvariantCulture);

    /// <summary><c>512 B</c>, <c>3.4 KB</c>, <c>12 MB</c>.</summary>
    public static string Bytes(long n) =>
        n < 1024 ? $"{n} B"
        : n < 1024 * 1024 ? (n / 1024.0).ToString(n < 10 * 1024 ? "0.0" : "0", CultureInfo.InvariantCulture) + " KB"
        : n < 1024L * 1024 * 1024 ? (n / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB"
        : (n / 1073741824.0).ToString("0.00", CultureInfo.InvariantCulture) + " GB";

    /// <summary><c>just now</c>, <c>4 min ago</c>, <c>3 h ago</c>, else the UTC date.</summary>
    public static string Ago(DateTimeOffset at, DateTimeOffset now)
    {
        var span = now - at;
        return span.TotalSeconds < 45 ? "just now"
            : span.TotalMinutes < 60 ? $"{Math.Max(1, (int)Math.Round(span.TotalMinutes))} min ago"
            : span.TotalHours < 24 ? $"{(int)span.TotalHours} h ago"
            : Utc(at);
    }

    /// <summary>The time in UTC, to the minute: <c>2025-06-01 14:03 UTC</c>.</summary>
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>The time in UTC, to the second, for titles.</summary>
    public static string Exact(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>The first line of <paramref name="text"/>, cut to <paramref name="max"/> characters.</summary>
    public static string FirstLine(string text, int max = 140)
    {
        ArgumentNullException.ThrowIfNull(text);
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        var first = (end < 0 ? line : line[..end]).ToString();
        return first.Length > max ? first[..(max - 1)] + "…" : end < 0 ? first : first + " …";
    }

    /// <summary>How a status reads: <c>timed_out</c> → <c>timed out</c>.</summary>
    public static string Status(string status) => status.Replace('_', ' ');
}
