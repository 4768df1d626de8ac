using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// Search over a job's whole history, however much of it the prompt still shows. Every event with text (assistant
/// messages, tool calls, tool results, the user's messages) is indexed by the store itself as it is appended — an
/// SQLite trigger fills a contentless FTS5 table in the same statement, in passages of about 500 characters — so an
/// acknowledged event is always searchable, whichever writer or process appended it. Ranking is by passage: each
/// query term and each pair of neighbouring terms standing together (<c>NEAR</c>) found in a passage adds its inverse
/// document frequency within the job, and an event ranks by its best passage; the best events are then ranked again by
/// the weight of the terms found on one line, so the line holding the rare words of the question outranks a long
/// output that mentions common ones everywhere. With an
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> the events are also embedded (on first search, then as they
/// come) and both rankings are fused. Every read is scoped to one job of one tenant: a job never sees another's events.
/// </summary>
public sealed partial class RecallIndex : IDisposable
{
    /// <summary>The event types whose text is indexed.</summary>
    public static readonly IReadOnlyList<string> IndexedTypes = ["assistant", "tool_call", "tool_result", "message"];

    /// <summary>The most hits one search returns.</summary>
    public const int MaxHits = 50;

    /// <summary>Passages start every this many characters of an event's text (the migration's trigger cuts them).</summary>
    internal const int PassageStride = 400;

    /// <summary>A passage's length: the stride and an overlap, so a word or pair cut at one passage's end is whole in the other.</summary>
    internal const int PassageLength = 500;

    /// <summary>How many of the best events by passage are read and ranked again by their best window.</summary>
    internal const int Reranked = 40;

    /// <summary>The widest stretch of one line in which the question's words count as found together, in characters.</summary>
    internal const int Window = 200;

    // A passage's rowid is the job's number in the high 32 bits, then the event's sequence number (24 bits), then the
    // passage's number (8 bits): one job's passages are one rowid range, which FTS5 seeks to, so a search never walks
    // other jobs' postings. (So a job's events past the 16,777,215th are not indexed.)
    private const int JobShift = 32;
    private const long JobMask = (1L << JobShift) - 1;

    // Reciprocal-rank fusion's constant; how events are cut for embedding, and how many texts go in one request.
    private const int FusionK = 60;
    private const int EmbeddingChunkChars = 2000;
    private const int MaxChunksPerEvent = 16;
    private const int EmbeddingBatch = 64;

    private readonly OrchestratorStore _store;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _embeddings;
    private readonly string _embeddingModel;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _catchUp = new();
    private readonly bool _ownsEmbeddings;

    /// <summary>
    /// An index over <paramref name="store"/>; with <paramref name="embeddings"/>, ranking is hybrid (words and vectors),
    /// and the generator is disposed with the index when <paramref name="ownsEmbeddings"/>.
    /// </summary>
    public RecallIndex(OrchestratorStore store, IEmbeddingGenerator<string, Embedding<float>>? embeddings = null, ILogger<RecallIndex>? logger = null,
        bool ownsEmbeddings = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _ownsEmbeddings = ownsEmbeddings;
        _embeddings = embeddings;
        _embeddingModel = embeddings?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? (embeddings is null ? "" : "default");
        _logger = logger ?? NullLogger<RecallIndex>.Instance;
    }

    /// <summary>True when searches also rank by embeddings.</summary>
    public bool HasEmbeddings => _embeddings is not null;

    /// <summary>Disposes the embedding generator when the index owns it.</summary>
    public void Dispose()
    {
        if (_ownsEmbeddings)
        {
            _embeddings?.Dispose();
        }

        foreach (var gate in _catchUp.Values)
        {
            gate.Dispose();
        }
    }

    /// <summary>
    /// The <paramref name="k"/> events of job <paramref name="jobId"/> (of <paramref name="tenant"/>) that best match
    /// <paramref name="query"/> — keywords, identifiers, paths, error codes or a question — best first.
    /// </summary>
    /// <exception cref="ArgumentException">The query has no word to search for, or <paramref name="k"/> is not 1 to <see cref="MaxHits"/>.</exception>
    /// <exception cref="OrchestratorException">The tenant has no such job (404 <c>job_not_found</c>).</exception>
    public Task<IReadOnlyList<RecallHit>> SearchAsync(string tenant, string jobId, string query, int k = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parsed = RecallQuery.Parse(query)
            ?? throw new ArgumentException("The query has no word to search for: give keywords, identifiers, file names or error codes.", nameof(query));
        return FindAsync(tenant, jobId, parsed, query, k, null, cancellationToken);
    }

    /// <summary>
    /// The <paramref name="k"/> events that best match <paramref name="text"/> (the current step: the task, the last
    /// messages and outputs), leaving out <paramref name="excludeSeqs"/> (the events the prompt already shows in full).
    /// For the context manager, which may show them to the model as a hint; empty when nothing matches or the text has no words.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="k"/> is not 1 to <see cref="MaxHits"/>.</exception>
    /// <exception cref="OrchestratorException">The tenant has no such job (404 <c>job_not_found</c>).</exception>
    public async Task<IReadOnlyList<RecallHit>> SuggestAsync(string tenant, string jobId, string text, int k = 3, IReadOnlyCollection<long>? excludeSeqs = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return RecallQuery.Parse(text, maxTerms: 24) is { } parsed
            ? await FindAsync(tenant, jobId, parsed, text, k, excludeSeqs, cancellationToken).ConfigureAwait(false)
            : [];
    }

    /// <summary>The text of event <paramref name="seq"/> of the job; null when the job has no such event.</summary>
    /// <exception cref="OrchestratorException">The tenant has no such job (404 <c>job_not_found</c>).</exception>
    public Task<RecallEvent?> ReadAsync(string tenant, string jobId, long seq, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _ = JobNumber(tenant, jobId);
        var rows = _store.Query("""
            SELECT e.seq, e.type, json_extract(e.data, '$.name'), t.body, e.data
            FROM job_events e LEFT JOIN job_event_text t ON t.job_id = e.job_id AND t.seq = e.seq
            WHERE e.job_id = $job AND e.seq = $seq
            """,
            r => new RecallEvent(r.GetInt64(0), r.GetString(1), NameOf(r, 2), r.IsDBNull(3) ? r.GetString(4) : r.GetString(3)),
            ("$job", jobId), ("$seq", seq));
        return Task.FromResult(rows.FirstOrDefault());
    }

    private async Task<IReadOnlyList<RecallHit>> FindAsync(string tenant, string jobId, RecallQuery query, string text, int k,
        IReadOnlyCollection<long>? exclude, CancellationToken cancellationToken)
    {
        if (k is < 1 or > MaxHits)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be 1 to {MaxHits}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var num = JobNumber(tenant, jobId);
        var (lexical, words) = Lexical(num, jobId, query, exclude);
        var ranked = lexical.Select(c => (c.Event.Seq, c.Score)).ToList();
        if (_embeddings is not null)
        {
            try
            {
                var semantic = await SemanticAsync(num, jobId, text, Math.Max(k * 4, 40), exclude, cancellationToken).ConfigureAwait(false);
                ranked = Fuse(ranked, semantic);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A provider that fails must not take recall down with it: the lexical ranking still answers.
                LogEmbeddingsFailed(_logger, jobId, e);
            }
        }

        ranked = [.. ranked.Take(k)];
        var known = lexical.ToDictionary(c => c.Event.Seq);
        var missing = ranked.Where(h => !known.ContainsKey(h.Seq)).Select(h => h.Seq).ToList();
        var fetched = missing.Count == 0 ? [] : Bodies(jobId, missing);
        var hits = new List<RecallHit>(ranked.Count);
        foreach (var (seq, score) in ranked)
        {
            var (e, window) = known.TryGetValue(seq, out var c) ? (c.Event, c.Window) : fetched.TryGetValue(seq, out var f) ? (f, -1) : (null, -1);
            if (e is not null)
            {
                // A hit found by meaning alone has no window of words: its snippet is its best place anywhere.
                var snippet = window < 0 ? RecallSnippet.Of(e.Text, words) : RecallSnippet.Of(e.Text, words, window, window + Window);
                hits.Add(new RecallHit(e.Seq, e.Type, e.Name, snippet, e.Text.Length, Math.Round(score, 4)));
            }
        }

        return hits;
    }

    /// <summary>One event the lexical ranking considered: its text, its score, and where its best window starts.</summary>
    private sealed record Candidate(RecallEvent Event, double Score, int Window);

    /// <summary>
    /// The job's events that match, best first. First by passage: each term's passages are looked up in the job's
    /// rowid range, a passage scores the sum of the inverse document frequencies (within the job) of the terms it
    /// holds, and an event its best passage's score. Then the best <see cref="Reranked"/> events are read, and each
    /// gains the weight of the terms found together in one line (at most <see cref="Window"/> characters of it), so the
    /// one line that holds the question's words outranks a passage where they are scattered. The newer event first among equals.
    /// </summary>
    private (List<Candidate> Ranked, IReadOnlyList<(string Word, double Weight)> Words) Lexical(long num, string jobId, RecallQuery query,
        IReadOnlyCollection<long>? exclude)
    {
        var lo = num << JobShift;
        var hi = lo | JobMask;
        var skip = exclude is { Count: > 0 } ? new HashSet<long>(exclude) : null;
        var passages = new Dictionary<long, double>();
        var weights = new double[query.Terms.Count];
        using (var connection = _store.Open())
        {
            using var count = connection.CreateCommand();
            // The passages of the job, counted in FTS5's own table of passage sizes (keyed by rowid): a range count.
            count.CommandText = "SELECT count(*) FROM job_event_search_docsize WHERE id BETWEEN $lo AND $hi";
            count.Parameters.AddWithValue("$lo", lo);
            count.Parameters.AddWithValue("$hi", hi);
            var total = Convert.ToDouble(count.ExecuteScalar(), CultureInfo.InvariantCulture);

            var rows = new List<long>();
            using var search = connection.CreateCommand();
            search.CommandText = "SELECT rowid FROM job_event_search WHERE job_event_search MATCH $term AND rowid BETWEEN $lo AND $hi";
            var term = search.Parameters.Add("$term", SqliteType.Text);
            search.Parameters.AddWithValue("$lo", lo);
            search.Parameters.AddWithValue("$hi", hi);
            for (var t = 0; t < query.Terms.Count; t++)
            {
                rows.Clear();
                term.Value = query.Terms[t].Expression;
                using (var reader = search.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        rows.Add(reader.GetInt64(0));
                    }
                }

                if (rows.Count == 0)
                {
                    continue;
                }

                weights[t] = Math.Log(1 + ((total - rows.Count + 0.5) / (rows.Count + 0.5)));
                foreach (var rowid in rows)
                {
                    passages[rowid] = passages.GetValueOrDefault(rowid) + weights[t];
                }
            }
        }

        var best = new Dictionary<long, double>();
        var matched = new Dictionary<long, List<int>>();
        foreach (var (rowid, score) in passages)
        {
            var seq = (rowid & JobMask) >> 8;
            if (skip?.Contains(seq) == true)
            {
                continue;
            }

            best[seq] = Math.Max(score, best.GetValueOrDefault(seq));
            (matched.TryGetValue(seq, out var list) ? list : matched[seq] = []).Add((int)(rowid & 0xFF));
        }

        // The words of the terms that matched, each with its term's weight shared among its words. (The NEAR groups rank
        // passages only: counted again in the window, a pair of common question words outweighs a rare identifier.)
        var words = query.Terms.Select((t, i) => (t, Weight: weights[i]))
            .Where(x => !x.t.IsNear && x.Weight > 0)
            .SelectMany(x => x.t.Parts.Select(p => (Word: p, Weight: x.Weight / x.t.Parts.Count)))
            .GroupBy(w => w.Word, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Max(w => w.Weight)))
            .ToList();
        var top = best.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).Take(Reranked).ToList();
        if (top.Count == 0)
        {
            return ([], words);
        }

        var bodies = Bodies(jobId, top.Select(p => p.Key));
        var ranked = new List<Candidate>(top.Count);
        foreach (var (seq, score) in top)
        {
            if (bodies.TryGetValue(seq, out var e))
            {
                // Only where a term matched: the matched passages, widened so a window across their edges is seen whole,
                // and joined where they overlap.
                var (start, together) = (0, 0.0);
                var lowered = e.Text.ToLowerInvariant();
                foreach (var (from, to) in Regions(matched[seq], e.Text.Length))
                {
                    var window = RecallSnippet.BestWindow(lowered, words, from, to, Window);
                    if (window.Weight > together)
                    {
                        (start, together) = window;
                    }
                }

                ranked.Add(new Candidate(e, score + together, start));
            }
        }

        return ([.. ranked.OrderByDescending(c => c.Score).ThenByDescending(c => c.Event.Seq)], words);
    }

    /// <summary>The stretches of a text of <paramref name="length"/> characters around the given passages, overlapping ones joined, in order.</summary>
    private static List<(int From, int To)> Regions(List<int> passages, int length)
    {
        passages.Sort();
        var regions = new List<(int From, int To)>();
        foreach (var passage in passages)
        {
            var from = Math.Max(0, (passage * PassageStride) - Window);
            var to = passage == 255 ? length : Math.Min(length, (passage * PassageStride) + PassageLength + Window);
            if (regions.Count > 0 && from <= regions[^1].To)
            {
                regions[^1] = (regions[^1].From, Math.Max(to, regions[^1].To));
            }
            else if (from < to)
            {
                regions.Add((from, to));
            }
        }

        return regions;
    }

    private Dictionary<long, RecallEvent> Bodies(string jobId, IEnumerable<long> seqs) =>
        _store.Query("""
            SELECT seq, type, name, body FROM job_event_text
            WHERE job_id = $job AND seq IN (SELECT value FROM json_each($seqs))
            """,
            r => new RecallEvent(r.GetInt64(0), r.GetString(1), NameOf(r, 2), r.GetString(3)),
            ("$job", jobId), ("$seqs", JsonSerializer.Serialize(seqs))).ToDictionary(e => e.Seq);

    /// <summary>The job's number (the high half of its passages' rowids), only when it is the tenant's.</summary>
    private long JobNumber(string tenant, string jobId)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        return _store.Query("SELECT num FROM jobs WHERE id = $id AND tenant = $tenant", r => r.GetInt64(0), ("$id", jobId), ("$tenant", tenant)) is [var num]
            ? num
            : throw new OrchestratorException(404, "job_not_found", $"No job '{jobId}' for this key's tenant.");
    }

    private static string? NameOf(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetValue(i).ToString();

    /// <summary>Reciprocal-rank fusion: each ranking adds 1/(60 + rank) for an event, so agreement wins over one strong score.</summary>
    private static List<(long Seq, double Score)> Fuse(List<(long Seq, double Score)> lexical, List<(long Seq, double Score)> semantic)
    {
        var fused = new Dictionary<long, double>();
        foreach (var ranking in new[] { lexical, semantic })
        {
            for (var i = 0; i < ranking.Count; i++)
            {
                fused[ranking[i].Seq] = fused.GetValueOrDefault(ranking[i].Seq) + (1.0 / (FusionK + i + 1));
            }
        }

        return [.. fused.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).Select(p => (p.Key, p.Value))];
    }

    /// <summary>The events nearest to <paramref name="text"/> by cosine similarity (the best chunk of each), after embedding what is new.</summary>
    private async Task<List<(long Seq, double Score)>> SemanticAsync(long num, string jobId, string text, int limit, IReadOnlyCollection<long>? exclude,
        CancellationToken cancellationToken)
    {
        await CatchUpAsync(num, jobId, cancellationToken).ConfigureAwait(false);
        var query = Normalize((await _embeddings!.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false))[0].Vector.Span);
        var skip = exclude is null ? null : new HashSet<long>(exclude);
        var best = new Dictionary<long, double>();
        foreach (var (seq, vector) in _store.Query(
            "SELECT seq, vector FROM job_event_vectors WHERE job_num = $num AND model = $model",
            r => (r.GetInt64(0), (byte[])r.GetValue(1)), ("$num", num), ("$model", _embeddingModel)))
        {
            if (skip?.Contains(seq) == true || vector.Length != query.Length * sizeof(float))
            {
                continue;
            }

            var similarity = Dot(query, MemoryMarshal.Cast<byte, float>(vector));
            if (!best.TryGetValue(seq, out var known) || similarity > known)
            {
                best[seq] = similarity;
            }
        }

        return [.. best.OrderByDescending(p => p.Value).ThenByDescending(p => p.Key).Take(limit).Select(p => (p.Key, p.Value))];
    }

    /// <summary>Embeds the job's events appended since the last time, a batch at a time, each batch stored with its progress mark.</summary>
    private async Task CatchUpAsync(long num, string jobId, CancellationToken cancellationToken)
    {
        var gate = _catchUp.GetOrAdd(num, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var last = _store.Query("SELECT last_seq FROM job_event_vector_progress WHERE job_num = $num AND model = $model",
                    r => r.GetInt64(0), ("$num", num), ("$model", _embeddingModel)).FirstOrDefault();
                var pending = _store.Query("""
                    SELECT seq, body FROM job_event_text WHERE job_id = $job AND seq > $last ORDER BY seq LIMIT $limit
                    """, r => (Seq: r.GetInt64(0), Body: r.GetString(1)), ("$job", jobId), ("$last", last), ("$limit", EmbeddingBatch));
                if (pending.Count == 0)
                {
                    return;
                }

                var chunks = pending.SelectMany(e => Chunks(e.Body).Select((text, i) => (e.Seq, Chunk: i, Text: text))).ToList();
                var vectors = new List<float[]>(chunks.Count);
                foreach (var batch in chunks.Chunk(EmbeddingBatch))
                {
                    var embedded = await _embeddings!.GenerateAsync(batch.Select(c => c.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
                    vectors.AddRange(embedded.Select(e => Normalize(e.Vector.Span)));
                }

                using var connection = _store.Open();
                using var transaction = connection.BeginTransaction();
                for (var i = 0; i < chunks.Count; i++)
                {
                    Execute(connection, transaction, """
                        INSERT OR REPLACE INTO job_event_vectors (job_num, model, seq, chunk, vector) VALUES ($num, $model, $seq, $chunk, $vector)
                        """, ("$num", num), ("$model", _embeddingModel), ("$seq", chunks[i].Seq), ("$chunk", chunks[i].Chunk),
                        ("$vector", MemoryMarshal.AsBytes(vectors[i].AsSpan()).ToArray()));
                }

                Execute(connection, transaction, """
                    INSERT INTO job_event_vector_progress (job_num, model, last_seq) VALUES ($num, $model, $last)
                    ON CONFLICT (job_num, model) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
                    """, ("$num", num), ("$model", _embeddingModel), ("$last", pending[^1].Seq));
                transaction.Commit();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The pieces of an event's text that are embedded: chunks of about 2,000 characters, at most 16 spread over the text.</summary>
    internal static IEnumerable<string> Chunks(string body)
    {
        var count = (body.Length + EmbeddingChunkChars - 1) / EmbeddingChunkChars;
        if (count == 0)
        {
            yield break;
        }

        var taken = Math.Min(count, MaxChunksPerEvent);
        for (var i = 0; i < taken; i++)
        {
            var chunk = (int)((long)i * count / taken);
            var start = chunk * EmbeddingChunkChars;
            yield return body.Substring(start, Math.Min(EmbeddingChunkChars, body.Length - start));
        }
    }

    private static float[] Normalize(ReadOnlySpan<float> vector)
    {
        var norm = Math.Sqrt(Dot(vector, vector));
        var result = new float[vector.Length];
        for (var i = 0; i < vector.Length; i++)
        {
            result[i] = norm > 0 ? (float)(vector[i] / norm) : 0;
        }

        return result;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        command.ExecuteNonQuery();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: ranking by embeddings failed; recall answers by words alone")]
    private static partial void LogEmbeddingsFailed(ILogger logger, string jobId, Exception exception);
}
