using System.Globalization;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// Turns what a model or the context manager asks (keywords, an identifier, or a whole question) into FTS5 terms:
/// every word a quoted term, every identifier or path (<c>parse_config</c>, <c>src/Api/Order.cs</c>, <c>HTTP/1.1</c>)
/// a quoted phrase of its parts, so that the index's tokenizer (which splits at <c>_</c>, <c>.</c> and <c>/</c>)
/// finds it exactly, and every two neighbouring terms a <c>NEAR</c> group, which matches where they stand together
/// as they did in the question. Question words and other function words are dropped (<c>what</c>, <c>did</c>, the
/// <c>'s</c> of a possessive), and nothing the user typed can be read as FTS5 syntax.
/// </summary>
public sealed class RecallQuery
{
    private static readonly HashSet<string> s_stopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "and", "or", "but", "if", "then", "else", "of", "in", "on", "at", "to", "for", "from", "by", "with",
        "without", "about", "into", "onto", "over", "under", "as", "is", "are", "was", "were", "be", "been", "being", "am",
        "do", "does", "did", "done", "doing", "have", "has", "had", "having", "will", "would", "shall", "should", "can",
        "could", "may", "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "that",
        "this", "these", "those", "there", "here", "it", "its", "i", "me", "my", "we", "us", "our", "you", "your", "he",
        "she", "they", "them", "their", "his", "her", "not", "no", "so", "such", "than", "too", "very", "just", "also",
        "any", "some", "all", "each", "every", "again", "ever", "still", "earlier", "before", "after", "previously", "ago",
        "recall", "remember", "s", "t", "ll", "ve", "re", "d", "m", "whether", "while", "during", "up", "out", "off",
        "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "won", "wouldn", "shouldn", "couldn", "haven", "hasn", "hadn",
    };

    /// <summary>How many tokens may stand between two neighbouring terms for their <c>NEAR</c> group to match.</summary>
    public const int NearDistance = 2;

    private RecallQuery(IReadOnlyList<RecallTerm> terms, IReadOnlyList<string> words)
    {
        Terms = terms;
        Words = words;
        Match = string.Join(" OR ", terms.Select(t => t.Expression));
    }

    /// <summary>The terms searched for one by one: the words and phrases, then the <c>NEAR</c> groups of neighbours.</summary>
    public IReadOnlyList<RecallTerm> Terms { get; }

    /// <summary>All of <see cref="Terms"/> in one FTS5 <c>MATCH</c> expression (OR).</summary>
    public string Match { get; }

    /// <summary>The query's words, lowercased, for finding where an event's text matches (snippets).</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>
    /// The query for <paramref name="text"/>, keeping at most <paramref name="maxTerms"/> terms: in order for a short query;
    /// for a long one (a step's context), identifiers first, then words with digits, then the longest words.
    /// Null when the text holds no word at all.
    /// </summary>
    public static RecallQuery? Parse(string text, int maxTerms = 32) => Parse(text, maxTerms, near: true);

    /// <summary>As <see cref="Parse(string, int)"/>, with or without the <c>NEAR</c> groups of neighbouring terms.</summary>
    public static RecallQuery? Parse(string text, int maxTerms, bool near)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<Term>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = Parts(WithoutContraction(chunk));
            if (parts.Count == 0)
            {
                continue;
            }

            var key = string.Join(' ', parts);
            if (seen.Add(key))
            {
                terms.Add(new Term(parts, terms.Count));
            }
        }

        if (terms.Count == 0)
        {
            return null;
        }

        // A query of function words alone ("what was it?") still searches for them rather than for nothing.
        var meaningful = terms.Where(t => t.Parts.Count > 1 || !s_stopWords.Contains(t.Parts[0])).ToList();
        if (meaningful.Count > 0)
        {
            terms = meaningful;
        }

        if (terms.Count > maxTerms)
        {
            terms = [.. terms.OrderByDescending(t => t.Weight).ThenBy(t => t.Order).Take(maxTerms).OrderBy(t => t.Order)];
        }

        // Parts are letters and digits only, so quoting needs no escaping and no part is an FTS5 keyword or column filter.
        var expressions = terms.Select(t => new RecallTerm("\"" + string.Join(' ', t.Parts) + "\"", t.Parts)).ToList();
        for (var i = 0; near && i + 1 < terms.Count; i++)
        {
            var (left, right) = (expressions[i], expressions[i + 1]);
            expressions.Add(new RecallTerm(
                string.Create(CultureInfo.InvariantCulture, $"NEAR({left.Expression} {right.Expression}, {NearDistance})"), [.. left.Parts, .. right.Parts], left, right));
        }

        var words = terms.SelectMany(t => t.Parts).Distinct(StringComparer.Ordinal).ToList();
        return new RecallQuery(expressions, words);
    }

    /// <summary>A word without the <c>'s</c> of a possessive or the tail of a contraction (<c>account's</c> is <c>account</c>).</summary>
    private static string WithoutContraction(string chunk)
    {
        var apostrophe = chunk.LastIndexOfAny(['\'', '\u2019']);
        if (apostrophe > 0)
        {
            var tail = chunk[(apostrophe + 1)..].TrimEnd('?', '!', '.', ',', ';', ':', ')', '"');
            if (tail.Length <= 2 && tail.All(char.IsLetter))
            {
                return chunk[..apostrophe];
            }
        }

        return chunk;
    }

    /// <summary>True for the question and function words a query leaves out (<c>what</c>, <c>did</c>, <c>the</c>...), lowercase.</summary>
    public static bool IsStopWord(string word) => s_stopWords.Contains(word);

    /// <summary>The runs of letters and digits of <paramref name="chunk"/>, lowercased: what the index's tokenizer makes of it.</summary>
    public static List<string> Parts(string chunk)
    {
        var parts = new List<string>();
        var start = -1;
        for (var i = 0; i <= chunk.Length; i++)
        {
            var inWord = i < chunk.Length && IsWordChar(chunk[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                parts.Add(chunk[start..i].ToLowerInvariant());
                start = -1;
            }
        }

        return parts;
    }

    /// <summary>Letters, numbers and private-use characters (L*, N*, Co): what FTS5's <c>unicode61</c> tokenizer keeps in a token.</summary>
    public static bool IsWordChar(char c) =>
        char.IsLetter(c) || char.GetUnicodeCategory(c) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
            or UnicodeCategory.OtherNumber or UnicodeCategory.PrivateUse;

    private sealed record Term(List<string> Parts, int Order)
    {
        // Identifiers and paths say the most, then numbers and codes (E0502, 8734, a commit id), then long words.
        public int Weight => Parts.Count > 1 ? 1000 : Parts[0].Any(char.IsDigit) ? 500 : Parts[0].Length;
    }
}
