using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Store;

namespace Runable.Bench;

/// <summary>
/// Recall over a long session: facts planted across a synthetic coding session of a million tokens (o200k), with two
/// other jobs' sessions in the same store (a real orchestrator's database holds many), all appended through the job
/// store as the agent loop appends them; then each fact asked for with its question through the agent's
/// <c>recall</c> tool (k = 5). Reports the share found in the top five and the latency of the tool call, against a
/// baseline in the same run (every event scanned for the question's words, ranked by how many it holds); the same
/// questions with FTS5's own BM25 rank, over the same passages and over whole events with four tokenizers; and what
/// the index adds to each append. Run with <c>bench/run context-recall [--facts N] [--tokens N] [--seed N]</c>.
/// </summary>
public static partial class ContextRecall
{
    private const string Tenant = "bench";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>One way of answering the questions: how many facts it found in the top five, and its latency per question.</summary>
    public sealed record Variant(string Name, int Found, Measurement Latency);

    private sealed record Question(string Text, string Answer, string Kind, long Seq);

    public static async Task RunAsync(string[] args, string resultsDirectory)
    {
        var facts = 210;
        var tokens = 1_000_000L;
        var seed = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--facts" when i + 1 < args.Length:
                    facts = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--tokens" when i + 1 < args.Length:
                    tokens = long.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--seed" when i + 1 < args.Length:
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: bench/run context-recall [--facts N] [--tokens N] [--seed N]");
            }
        }

        var watch = Stopwatch.StartNew();
        var o200k = TiktokenTokenizer.CreateForEncoding("o200k_base");
        Func<string, int> count = text => o200k.CountTokens(text);
        Console.Error.WriteLine($"Context recall: generating a session of {tokens:N0} tokens (o200k) with {facts} facts, and two other jobs' sessions...");
        var session = ContextRecallSession.Generate(seed, tokens, facts, count);
        ContextRecallSession[] others = [ContextRecallSession.Generate(seed + 1000, tokens / 4, 50, count), ContextRecallSession.Generate(seed + 2000, tokens / 4, 50, count)];
        Console.Error.WriteLine($"  {session.Events.Count} events, {session.Tokens:N0} tokens, {session.Characters:N0} characters, {session.Facts.Count} facts ({watch.Elapsed.TotalSeconds:0.0} s)");

        var data = Directory.CreateTempSubdirectory("runable-bench-recall-").FullName;
        var plain = Directory.CreateTempSubdirectory("runable-bench-recall-plain-").FullName;
        try
        {
            // The session as the agent loop appends it, the other jobs' events in between (jobs run side by side).
            var store = new OrchestratorStore(data);
            var jobs = new SqliteJobStore(store);
            var main = await SubmitAsync(jobs, Tenant);
            Job[] otherJobs = [await SubmitAsync(jobs, Tenant), await SubmitAsync(jobs, "another-tenant")];
            Console.Error.WriteLine("- appending every event through the job store (the recall index is written by the same statement)...");
            var seqs = new long[session.Events.Count];
            var appendSamples = new List<double>(session.Events.Count);
            var appended = new int[others.Length];
            for (var i = 0; i < session.Events.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                seqs[i] = await AppendAsync(jobs, main.Id, session.Events[i]);
                appendSamples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                for (var o = 0; o < others.Length; o++)
                {
                    var due = (int)((long)(i + 1) * others[o].Events.Count / session.Events.Count);
                    while (appended[o] < due)
                    {
                        await AppendAsync(jobs, otherJobs[o].Id, others[o].Events[appended[o]++]);
                    }
                }
            }

            // The append baseline: the same events into a store without the recall index.
            Console.Error.WriteLine("- appending the same events to a store without the index (the append baseline)...");
            var plainStore = new OrchestratorStore(plain);
            plainStore.Execute("DROP TRIGGER job_events_search_insert; DROP TRIGGER job_events_search_delete;");
            var plainJobs = new SqliteJobStore(plainStore);
            var plainJob = await SubmitAsync(plainJobs, Tenant);
            var plainSamples = new List<double>(session.Events.Count);
            foreach (var e in session.Events)
            {
                var start = Stopwatch.GetTimestamp();
                await AppendAsync(plainJobs, plainJob.Id, e);
                plainSamples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            var recall = RecallTools.Create(new RecallIndex(store), Tenant, main.Id)[0];
            var questions = session.Facts.Select(f => new Question(f.Question, f.Answer, f.Kind, seqs[f.EventIndex])).ToList();

            Console.Error.WriteLine($"- {questions.Count} questions through the recall tool (k = 5), three passes after a warm-up...");
            foreach (var q in questions.Take(20))
            {
                await AskAsync(recall, q.Text);
            }

            var ranks = new int?[questions.Count];
            var samples = new List<double>();
            for (var pass = 0; pass < 3; pass++)
            {
                for (var q = 0; q < questions.Count; q++)
                {
                    var start = Stopwatch.GetTimestamp();
                    var hits = await AskAsync(recall, questions[q].Text);
                    samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    if (pass == 0)
                    {
                        var rank = hits.IndexOf(questions[q].Seq);
                        ranks[q] = rank < 0 ? null : rank + 1;
                    }
                }
            }

            var tool = new Variant("**the recall tool**: passages, each query word and neighbour pair weighted by its rarity in the job, then the line holding most of them",
                ranks.Count(r => r is not null), new Measurement("recall", samples));

            Console.Error.WriteLine("- baseline: scanning every event of the job for the question's words...");
            var baseline = Scan(store, main.Id, questions);

            Console.Error.WriteLine("- the same questions with FTS5's BM25 rank, over this index's passages and over whole events with other tokenizers...");
            var num = store.Query("SELECT num FROM jobs WHERE id = $id", r => r.GetInt64(0), ("$id", main.Id))[0];
            var comparisons = new List<Variant> { PassagesByBm25(store, num, questions) };
            comparisons.AddRange(Tokenizers(store, main.Id, questions));

            var indexBytes = store.Query("SELECT COALESCE(SUM(length(block)), 0) FROM job_event_search_data", r => r.GetInt64(0))[0]
                + store.Query("SELECT COALESCE(SUM(length(sz)), 0) FROM job_event_search_docsize", r => r.GetInt64(0))[0];
            var allCharacters = session.Characters + others.Sum(o => o.Characters);
            var markdown = Markdown(session, others, questions, ranks, tool, baseline, comparisons,
                new Measurement("append with the recall index", appendSamples), new Measurement("append without it", plainSamples), indexBytes, allCharacters, seed);
            Console.WriteLine(markdown);
            Directory.CreateDirectory(resultsDirectory);
            await File.WriteAllTextAsync(Path.Combine(resultsDirectory, "context-recall.md"), markdown);
            var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(Path.Combine(resultsDirectory, $"context-recall-{stamp}.json"), JsonSerializer.Serialize(new
            {
                seed,
                events = session.Events.Count,
                tokens = session.Tokens,
                characters = session.Characters,
                variants = new[] { tool, baseline }.Concat(comparisons).Select(v => new
                {
                    name = v.Name,
                    found = v.Found,
                    of = questions.Count,
                    p50_ms = v.Latency.P50,
                    p95_ms = v.Latency.Percentile(95),
                    samples_ms = v.Latency.SamplesMs,
                }),
                facts = questions.Select((q, i) => new { kind = q.Kind, question = q.Text, answer = q.Answer, seq = q.Seq, rank = ranks[i] }),
                append_ms = new { with_index = appendSamples, without_index = plainSamples },
            }, new JsonSerializerOptions { WriteIndented = true }));
            Console.Error.WriteLine($"Wrote {Path.Combine(resultsDirectory, "context-recall.md")} ({watch.Elapsed.TotalSeconds:0} s in all)");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
            Directory.Delete(plain, recursive: true);
        }
    }

    private static async Task<Job> SubmitAsync(SqliteJobStore jobs, string tenant)
    {
        var job = new Job
        {
            Id = "job_" + Guid.NewGuid().ToString("N")[..16],
            Tenant = tenant,
            Task = "Make the settlement suite pass again",
            Status = JobStatus.Queued,
            Spec = """{"task":"Make the settlement suite pass again"}""",
            CreatedAt = DateTimeOffset.UtcNow,
        };
        return (await jobs.SubmitAsync(job, null, "bench")).Job;
    }

    private static async Task<long> AppendAsync(SqliteJobStore jobs, string jobId, ContextRecallSession.SessionEvent e) =>
        (await jobs.AppendAsync(jobId, e.Type, JsonSerializer.SerializeToElement(e.Data, s_json)))!.Seq;

    /// <summary>Calls the tool as the agent loop does and reads the event ids of its hits, best first.</summary>
    private static async Task<List<long>> AskAsync(AIFunction recall, string question)
    {
        var text = (string)(await recall.InvokeAsync(new AIFunctionArguments { ["query"] = question, ["k"] = 5 }))!;
        return [.. HitPattern().Matches(text).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];
    }

    /// <summary>
    /// The baseline: every event of the job read and scored by how many of the question's distinct words (the words
    /// recall searches for) it holds, case-insensitively; the five best, newest first among equals.
    /// </summary>
    private static Variant Scan(OrchestratorStore store, string jobId, List<Question> questions)
    {
        var samples = new List<double>();
        var found = 0;
        foreach (var q in questions)
        {
            var words = q.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).SelectMany(RecallQuery.Parts)
                .Where(w => !RecallQuery.IsStopWord(w)).Distinct().ToList();
            var score = string.Join(" + ", words.Select((_, i) => $"(instr(lower(body), $w{i}) > 0)"));
            var parameters = words.Select((w, i) => ($"$w{i}", (object?)w)).Append(("$job", jobId)).ToArray();
            var start = Stopwatch.GetTimestamp();
            var top = store.Query($"SELECT seq FROM job_event_text WHERE job_id = $job ORDER BY {score} DESC, seq DESC LIMIT 5", r => r.GetInt64(0), parameters);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            found += top.Contains(q.Seq) ? 1 : 0;
        }

        return new Variant("baseline: every event scanned for the question's words, ranked by how many it holds", found, new Measurement("scan", samples));
    }

    /// <summary>The same index's passages ranked by FTS5's BM25 (<c>ORDER BY rank</c>) with all the query's terms OR-ed, events by their best passage.</summary>
    private static Variant PassagesByBm25(OrchestratorStore store, long num, List<Question> questions)
    {
        var samples = new List<double>();
        var found = 0;
        foreach (var q in questions)
        {
            var match = RecallQuery.Parse(q.Text)!.Match;
            var start = Stopwatch.GetTimestamp();
            var top = store.Query("""
                SELECT (rowid & 4294967295) >> 8 FROM job_event_search
                WHERE job_event_search MATCH $match AND rowid BETWEEN $lo AND $hi ORDER BY rank LIMIT 200
                """, r => r.GetInt64(0), ("$match", match), ("$lo", num << 32), ("$hi", (num << 32) | 4294967295)).Distinct().Take(5).ToList();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            found += top.Contains(q.Seq) ? 1 : 0;
        }

        return new Variant("this index's passages, ranked by FTS5's BM25 alone (the same terms OR-ed)", found, new Measurement("passages", samples));
    }

    /// <summary>The questions against FTS5 tables of whole events with other tokenizers, each with a query made for it, ranked by BM25.</summary>
    private static List<Variant> Tokenizers(OrchestratorStore store, string jobId, List<Question> questions)
    {
        var variants = new List<(string Name, string Tokenize, Func<string, string?> Query)>
        {
            ("whole events, BM25: porter unicode61 (this index's tokenizer)", "porter unicode61 remove_diacritics 2", q => RecallQuery.Parse(q, 32, near: false)?.Match),
            ("whole events, BM25: unicode61 without stemming", "unicode61 remove_diacritics 2", q => RecallQuery.Parse(q, 32, near: false)?.Match),
            ("whole events, BM25: porter unicode61 with _ inside tokens (identifiers whole)", "porter unicode61 remove_diacritics 2 tokenchars '_'", UnderscoreQuery),
            ("whole events, BM25: trigram (substrings)", "trigram", TrigramQuery),
        };
        var results = new List<Variant>();
        var n = 0;
        foreach (var (name, tokenize, query) in variants)
        {
            var table = $"bench_tokenizer_{n++}";
            store.Execute($"CREATE VIRTUAL TABLE {table} USING fts5 (body, content = '', tokenize = \"{tokenize}\")");
            store.Execute($"INSERT INTO {table} (rowid, body) SELECT seq, body FROM job_event_text WHERE job_id = $job AND body <> ''", ("$job", jobId));
            var samples = new List<double>();
            var found = 0;
            foreach (var q in questions)
            {
                var match = query(q.Text);
                var start = Stopwatch.GetTimestamp();
                var top = match is null ? [] : store.Query($"SELECT rowid FROM {table} WHERE {table} MATCH $match ORDER BY rank LIMIT 5", r => r.GetInt64(0), ("$match", match));
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                found += top.Contains(q.Seq) ? 1 : 0;
            }

            results.Add(new Variant(name, found, new Measurement(name, samples)));
        }

        return results;
    }

    /// <summary>Words and identifiers OR-ed, with <c>_</c> kept inside identifiers (for the <c>tokenchars '_'</c> tokenizer).</summary>
    private static string? UnderscoreQuery(string question)
    {
        var terms = question.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(chunk => Regex.Split(chunk.ToLowerInvariant(), @"[^\p{L}\p{N}_]+").Where(p => p.Length > 0).ToList())
            .Where(parts => parts.Count > 1 || (parts.Count == 1 && !RecallQuery.IsStopWord(parts[0])))
            .Select(parts => "\"" + string.Join(' ', parts) + "\"")
            .Distinct()
            .ToList();
        return terms.Count == 0 ? null : string.Join(" OR ", terms);
    }

    /// <summary>Each word or identifier of three characters or more as a substring, OR-ed (what a trigram index can match).</summary>
    private static string? TrigramQuery(string question)
    {
        var terms = question.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(c => c.Trim('?', '!', ',', ';', ':', '(', ')', '"', '\'', '.').Replace("\"", "", StringComparison.Ordinal).ToLowerInvariant())
            .Where(c => c.Length >= 3 && !RecallQuery.IsStopWord(c))
            .Distinct()
            .Select(c => "\"" + c + "\"")
            .ToList();
        return terms.Count == 0 ? null : string.Join(" OR ", terms);
    }

    private static string Markdown(ContextRecallSession session, ContextRecallSession[] others, List<Question> questions, int?[] ranks, Variant tool,
        Variant baseline, List<Variant> comparisons, Measurement append, Measurement plainAppend, long indexBytes, long allCharacters, int seed)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string Row(Variant v, string target) =>
            string.Create(inv, $"| {v.Name} | {v.Found}/{questions.Count} ({(double)v.Found / questions.Count:P1}) | {v.Latency.P50:0.00} | {v.Latency.Percentile(95):0.00} | {target} |");

        text.AppendLine(inv, $"# Context recall ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, seed {seed})");
        text.AppendLine();
        text.AppendLine(inv, $"A synthetic coding session of {session.Events.Count:N0} events, {session.Tokens:N0} tokens (o200k) and {session.Characters:N0} characters of text, " +
            $"with {questions.Count} facts planted in it; two other jobs' sessions ({others.Sum(o => o.Tokens):N0} tokens) share the store. " +
            $"Each fact is asked for once, with a question that names what it is about, not its value, and shares no run of three words with its text.");
        text.AppendLine();
        text.AppendLine("| how | found in the top 5 | p50 (ms) | p95 (ms) | target |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(Row(tool, "≥ 95%, p95 ≤ 50 ms"));
        text.AppendLine(Row(baseline, "baseline"));
        foreach (var v in comparisons)
        {
            text.AppendLine(Row(v, "comparison"));
        }

        text.AppendLine();
        text.AppendLine(inv, $"The tool's latency is the whole call, snippets and text included ({tool.Latency.SamplesMs.Count} calls); the comparisons time the FTS5 query alone. " +
            $"Rank of the fact's event among the tool's hits: {string.Join(", ", Enumerable.Range(1, 5).Select(r => $"{r}: {ranks.Count(x => x == r)}"))}; not in the top 5: {ranks.Count(x => x is null)}.");
        text.AppendLine();
        text.AppendLine("| kind of fact | found in the top 5 |");
        text.AppendLine("|---|---|");
        foreach (var group in questions.Select((q, i) => (q.Kind, Rank: ranks[i])).GroupBy(x => x.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.AppendLine(inv, $"| {group.Key} | {group.Count(x => x.Rank is not null)}/{group.Count()} |");
        }

        text.AppendLine();
        text.AppendLine(inv, $"Appending an event (synchronous = FULL, one transaction each): p50 {append.P50:0.00} ms / p95 {append.Percentile(95):0.00} ms with the index written by the same statement, " +
            $"p50 {plainAppend.P50:0.00} ms / p95 {plainAppend.Percentile(95):0.00} ms without it. The index takes {indexBytes / 1048576.0:0.0} MiB for {allCharacters / 1048576.0:0.0} M characters of text (the text itself is stored once, in the event log).");
        var missed = questions.Select((q, i) => (q, Rank: ranks[i])).Where(x => x.Rank is null).ToList();
        if (missed.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Missed:");
            text.AppendLine();
            foreach (var (q, _) in missed)
            {
                text.AppendLine(inv, $"- {q.Kind}: \"{q.Text}\" (answer: {q.Answer})");
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^#(\d+) ", RegexOptions.Multiline)]
    private static partial Regex HitPattern();
}
