using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context;

namespace Runable.Bench;

/// <summary>
/// The context manager on synthetic but realistic coding sessions (mostly short outputs, some long logs cut at the
/// tools' 16 KiB, parallel calls, a user's message now and then), grown to 100k, 1M, 2M and 4M tokens of history in a
/// 200k-token window. Per step, as the agent runner does it: the new exchange is added (its outputs tokenized once) and
/// the prompt prepared (policy, assembly, check). The baseline re-tokenizes the whole history each step, as a policy
/// without cached counts must. Also reported: tokens sent per step by the manager, by masking alone (every output
/// outside the last K masked, no budget) and by sending the full history.
/// </summary>
public static class ContextAssembly
{
    private const int Window = 200_000;
    private const int Reserve = 8_192;
    private const int ToolTokens = 3_000;
    private const string SystemText = "You are a careful software engineer working alone on a task in an isolated Linux sandbox.";
    private const string Task = "The ledger's rollback test fails after the pool refactor. Find out why and fix it; keep the public API.";

    /// <summary>One history size's figures.</summary>
    public sealed record Row(long FromTokens, long HistoryTokens, Measurement Manager, Measurement Naive, double SentByManager, double SentByMasking, double SentFull, int Summaries, int Masks);

    public static async Task<IReadOnlyList<Row>> RunAsync(string repositoryRoot, string[] args)
    {
        var steps = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var n) ? n : 200;
        var rows = new List<Row>();
        foreach (var size in new long[] { 100_000, 1_000_000, 2_000_000, 4_000_000 })
        {
            Console.Error.WriteLine($"- context assembly at {size:N0} tokens of history: {steps} steps, and the naive baseline");
            rows.Add(await MeasureAsync(size, steps));
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"# Context assembly ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {steps} steps per size)");
        table.AppendLine();
        table.AppendLine("| history during the steps (tokens) | manager per step p50 / p95 / p99 (ms) | naive re-tokenize p50 / p95 (ms) | p95 ratio | tokens sent per step: manager / masking alone / full history | summaries, mask batches |");
        table.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.FromTokens:N0} → {r.HistoryTokens:N0} | {r.Manager.P50:0.00} / {r.Manager.Percentile(95):0.00} / {r.Manager.P99:0.00} | {r.Naive.P50:0.0} / {r.Naive.Percentile(95):0.0} | {r.Naive.Percentile(95) / r.Manager.Percentile(95):0}x | {r.SentByManager:N0} / {r.SentByMasking:N0} / {r.SentFull:N0} | {r.Summaries}, {r.Masks} |"));
        }

        table.AppendLine();
        table.AppendLine("Each size grows by its measured steps (a step adds one exchange of 1 to 3 calls). Target: p95 <= 20 ms at 1M tokens, flat in history length. The window is 200k tokens (8,192 kept for the answer, 3,000 of tool definitions); summaries come from an instant local summarizer, so a step's time is the manager's own, not a model's.");
        var markdown = table.ToString();
        Console.WriteLine(markdown);
        var results = Path.Combine(repositoryRoot, "bench", "results");
        Directory.CreateDirectory(results);
        await File.WriteAllTextAsync(Path.Combine(results, "context.md"), markdown);
        await File.WriteAllTextAsync(Path.Combine(results, $"context-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"), JsonSerializer.Serialize(rows.Select(r => new
        {
            history_tokens_from = r.FromTokens,
            history_tokens_to = r.HistoryTokens,
            manager_ms = new { p50 = r.Manager.P50, p95 = r.Manager.Percentile(95), p99 = r.Manager.P99, samples = r.Manager.SamplesMs },
            naive_ms = new { p50 = r.Naive.P50, p95 = r.Naive.Percentile(95), samples = r.Naive.SamplesMs },
            sent_per_step = new { manager = r.SentByManager, masking_alone = r.SentByMasking, full_history = r.SentFull },
            summaries = r.Summaries,
            mask_batches = r.Masks,
        }), new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine($"Wrote {Path.Combine(results, "context.md")}");
        return rows;
    }

    private static async Task<Row> MeasureAsync(long size, int steps)
    {
        var session = new Session(new Random(7));
        var decisions = new List<ContextDecision>();
        var settings = ContextSettings.For(Window, null, Reserve, null, tiktokenModel: true);
        var manager = new ContextManager(settings, TokenCounter.O200k, SystemText, Task, ToolTokens, new InstantSummarizer(), (d, _) =>
        {
            decisions.Add(d);
            return System.Threading.Tasks.Task.CompletedTask;
        });
        // Masking alone: every output outside the last K masked at once, and never a summary (the budget is out of reach).
        var masking = new ContextManager(settings with { WindowTokens = 1_000_000_000, MaskAt = 0.000_001, MaskTo = 0.000_000_5, MaskBatchShare = 0, SummarizeAt = 0.99 },
            TokenCounter.O200k, SystemText, Task, ToolTokens, null);
        var naive = new List<ChatMessage> { new(ChatRole.System, SystemText), new(ChatRole.User, Task) };

        // Grow the session to the size (untimed), preparing a prompt each step as the runner would.
        while (manager.HistoryTokens < size)
        {
            session.Next(manager, masking, naive);
            await manager.PrepareAsync();
        }

        var before = decisions.Count;
        var from = manager.HistoryTokens;
        var samples = new double[steps];
        double sent = 0, sentMasking = 0, sentFull = 0;
        for (var i = 0; i < steps; i++)
        {
            var step = session.NextStep();
            var start = Stopwatch.GetTimestamp();
            step.Apply(manager);
            var view = await manager.PrepareAsync();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            step.Apply(masking);
            step.Apply(naive);
            sent += view.Tokens;
            sentMasking += (await masking.PrepareAsync()).Tokens;
            sentFull += manager.HistoryTokens;
        }

        // The baseline: the same steps, re-tokenizing every message of the history each time (fewer steps: it is slow).
        var naiveSamples = new List<double>();
        for (var i = 0; i < Math.Max(5, steps / 20); i++)
        {
            session.NextStep().Apply(naive);
            var start = Stopwatch.GetTimestamp();
            var tokens = 0L;
            var prompt = new List<ChatMessage>(naive.Count);
            foreach (var message in naive)
            {
                tokens += TokenCounter.O200k.Count(message);
                prompt.Add(message);
            }

            naiveSamples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            GC.KeepAlive(tokens);
        }

        var later = decisions.Skip(before).ToList();
        return new Row(from, manager.HistoryTokens, new Measurement("context manager step", samples), new Measurement("re-tokenize the history", naiveSamples),
            sent / steps, sentMasking / steps, sentFull / steps,
            later.Count(d => d.Action == ContextDecision.SummarizeAction), later.Count(d => d.Action == ContextDecision.MaskAction));
    }

    /// <summary>A summary in the structured shape, at once: the benchmark times the manager, not a model.</summary>
    private sealed class InstantSummarizer : IContextSummarizer
    {
        public string Name => "bench:instant";

        public Task<string> SummarizeAsync(ContextSummaryRequest request, CancellationToken cancellationToken = default) =>
            System.Threading.Tasks.Task.FromResult(
                $"Goal\n- fix the rollback test\nState of the code\n- src/ledger/pool.rs refactored\nTests\n- tests/test_ledger.py::test_rollback fails\nChanges\n- none kept\nDecisions\n- keep the public API\nOpen questions\n- why the pool reuses a closed connection (events #{request.FromSeq} to #{request.ThroughSeq})");
    }

    /// <summary>A synthetic coding session, one step at a time.</summary>
    private sealed class Session(Random random)
    {
        private static readonly string[] s_words =
        [
            "src/ledger/pool.rs", "fn", "let", "mut", "self", "return", "error[E0502]:", "borrow", "test_rollback", "assert_eq!", "cargo", "warning:",
            "unused", "variable", "Traceback", "File", "\"/workspace/ledger/pool.py\",", "line", "in", "rollback", "ConnectionError:", "closed",
            "def", "class", "LedgerPool", "import", "PASSED", "FAILED", "tests/test_ledger.py::test_rollback", "ok", "the", "of", "and", "to",
            "a3f9c2e", "0.4.1", "INFO", "DEBUG", "pool.acquire()", "timeout=30", "=>", "{", "}", "(", ")", ";",
        ];

        private long _seq = 10;
        private int _calls;

        public void Next(ContextManager manager, ContextManager masking, List<ChatMessage> naive)
        {
            var step = NextStep();
            step.Apply(manager);
            step.Apply(masking);
            step.Apply(naive);
        }

        public Step NextStep()
        {
            if (random.NextDouble() < 0.02)
            {
                return new Step(_seq += 1, "Also make sure the migration still runs: " + Text(1), null, []);
            }

            var count = random.NextDouble() < 0.7 ? 1 : random.Next(2, 4);
            var seq = _seq;
            var outcomes = new List<ToolOutcome>();
            var calls = new List<FunctionCallContent>();
            for (var c = 0; c < count; c++)
            {
                var id = "call_" + ++_calls;
                var roll = random.NextDouble();
                // Most outputs are short; a fifth are long logs or files, cut at the tools' 16 KiB as they are in a job.
                var output = Text(roll < 0.5 ? random.Next(1, 15) : roll < 0.8 ? random.Next(15, 80) : random.Next(200, 700));
                output = output.Length > 16_384 ? output[..8_000] + "\n[... lines omitted; the full output is saved ...]\n" + output[^8_000..] : output;
                calls.Add(new FunctionCallContent(id, "bash", new Dictionary<string, object?> { ["command"] = "cargo test -p ledger -- " + s_words[random.Next(s_words.Length)] }));
                outcomes.Add(new ToolOutcome(id, "bash", seq + 1 + c, seq + 1 + count + c, output + "\n[exit code: " + (roll < 0.3 ? 1 : 0) + "]", false, []));
            }

            _seq += 1 + (2 * count);
            return new Step(seq, null, random.NextDouble() < 0.5 ? "Let me look at the failing test first." : null, outcomes) { Calls = calls };
        }

        private string Text(int lines)
        {
            var text = new StringBuilder();
            for (var l = 0; l < lines; l++)
            {
                var words = random.Next(4, 14);
                for (var w = 0; w < words; w++)
                {
                    text.Append(s_words[random.Next(s_words.Length)]).Append(' ');
                }

                text.Append(random.Next(100_000).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            return text.ToString();
        }
    }

    /// <summary>One step: a user's message, or an exchange.</summary>
    private sealed record Step(long Seq, string? UserText, string? Said, IReadOnlyList<ToolOutcome> Outcomes)
    {
        public IReadOnlyList<FunctionCallContent> Calls { get; init; } = [];

        private List<AIContent> Contents => [.. Said is null ? [] : new AIContent[] { new TextContent(Said) }, .. Calls];

        public void Apply(ContextManager manager)
        {
            if (UserText is not null)
            {
                manager.AddUserMessage(Seq, UserText);
            }
            else
            {
                manager.AddExchange(Seq, Contents, Outcomes);
            }
        }

        public void Apply(List<ChatMessage> naive)
        {
            if (UserText is not null)
            {
                naive.Add(new ChatMessage(ChatRole.User, UserText));
                return;
            }

            naive.Add(new ChatMessage(ChatRole.Assistant, Contents));
            naive.Add(new ChatMessage(ChatRole.Tool, [.. Outcomes.Select(o => (AIContent)new FunctionResultContent(o.CallId, o.Text))]));
        }
    }
}
