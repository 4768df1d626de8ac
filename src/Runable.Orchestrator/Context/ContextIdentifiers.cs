using System.Text.RegularExpressions;

namespace Runable.Orchestrator.Context;

/// <summary>
/// The exact identifiers in a span of history — file paths, error codes, exception names, commit ids, quoted symbols
/// and snake_case names — so that a summary carries them verbatim even when the summarizer paraphrased them away.
/// </summary>
public static partial class ContextIdentifiers
{
    /// <summary>The longest identifier kept.</summary>
    public const int MaxLength = 120;

    /// <summary>
    /// Up to <paramref name="max"/> identifiers of <paramref name="texts"/> that <paramref name="summary"/> does not already
    /// contain, the most recently seen last.
    /// </summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> texts, string summary, int max)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(summary);
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        long order = 0;
        foreach (var text in texts)
        {
            foreach (Match match in Pattern().Matches(text))
            {
                var value = match.Value.Trim('`', '\'', '"', '.', ',', ':', ';', '(', ')');
                if (value.Length is >= 3 and <= MaxLength && !IsNoise(value))
                {
                    seen[value] = order++;
                }
            }
        }

        return seen.Where(p => !summary.Contains(p.Key, StringComparison.Ordinal))
            .OrderByDescending(p => p.Value).Take(max).OrderBy(p => p.Value).Select(p => p.Key).ToList();
    }

    private static bool IsNoise(string value) =>
        value.All(c => char.IsDigit(c) || c == '.' || c == '/') // numbers, dates and versions alone say little
        || (value.Length >= 7 && value.All(char.IsAsciiHexDigitLower) && !value.Any(char.IsAsciiLetter)) // hex runs need a letter to be ids
        || value.StartsWith("http", StringComparison.Ordinal) && value.Length > 100;

    // Paths (a/b/c.ext or name.ext), error codes (E0502, CS1002, TS2345), exception and error names, commit ids
    // (7 to 40 hex digits with a letter and a digit), `quoted` symbols, snake_case and dotted names.
    [GeneratedRegex("""
        (?:\.{0,2}/)?(?:[\w.-]+/)+[\w.-]+
        |\b[\w-]+\.(?:py|cs|rs|ts|tsx|js|jsx|go|java|kt|rb|c|h|cc|cpp|hpp|md|json|ya?ml|toml|txt|sh|sql|html|css|csproj|sln|lock|cfg|ini|xml|proto|gradle)\b
        |\b[A-Z]{1,4}\d{3,5}\b
        |\b[A-Z][A-Za-z]+(?:Error|Exception)\b
        |\b[0-9a-f]{7,40}\b
        |`[^`\s]{3,80}`
        |\b[a-z][a-z0-9]*(?:_[a-z0-9]+){1,6}\b
        |\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){1,4}\(?
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 2000)]
    private static partial Regex Pattern();
}
