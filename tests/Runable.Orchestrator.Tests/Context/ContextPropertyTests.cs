using System.Diagnostics;
using System.Text.Json;
using Runable.Orchestrator.Context;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// Generated sessions — parallel calls, errors, huge outputs, images, reasoning, user messages mid-exchange, summaries
/// that work or fail, runs that crash mid-exchange — pruned to random budgets, live, replayed from the log, or both
/// (a run that stops and resumes). Every prompt the manager prepares passes its own check; the final one must also
/// pass the independent validator in OpenAI and Anthropic shapes and fit the budget; a resumed manager must rebuild the
/// very prompt the live one had.
/// </summary>
public sealed class ContextPropertyTests
{
    private const string System = "You are a careful software engineer. Tools: bash, str_replace_based_edit_tool, code, computer, finish, recall, read_event.";
    private const int ToolTokens = 1_500;

    [Fact]
    public async Task TenThousandGeneratedHistories_PrunedToRandomBudgets_KeepEveryInvariant_InBothShapes()
    {
        var histories = int.TryParse(Environment.GetEnvironmentVariable("RUNABLE_CONTEXT_HISTORIES"), out var n) ? n : 10_000;
        var watch = Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var stats = new Stats();
        // Off xunit's synchronization context, so both cores work.
        await Task.Run(() => Parallel.ForAsync(0, histories, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = TestContext.Current.CancellationToken },
            async (seed, _) =>
            {
                try
                {
                    foreach (var problem in await RunAsync(seed, stats))
                    {
                        failures.Add($"seed {seed}: {problem}");
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add($"seed {seed}: {e}");
                }
            }), TestContext.Current.CancellationToken);

        TestContext.Current.SendDiagnosticMessage(
            $"{histories} histories in {watch.Elapsed.TotalSeconds:0.0} s: {stats.Masked} masks, {stats.Summaries} summaries, {stats.Drops} drops, {stats.KeepReductions} K reductions, " +
            $"{stats.Resumed} resumes rebuilt exactly, {stats.Prompts} prompts prepared, largest history {stats.LargestHistory} tokens");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.True(stats.Masked > 1000 && stats.Summaries > 300 && stats.Drops > 30 && stats.Resumed > 2000, "the generator no longer reaches every policy");
    }

    /// <summary>Plays one generated history and returns its problems.</summary>
    private static async Task<List<string>> RunAsync(int seed, Stats stats)
    {
        var generator = new HistoryGenerator(seed);
        var random = generator.Random;
        var history = generator.Generate(random.NextDouble() < 0.8 ? random.Next(1, 16) : random.Next(20, 50));
        var mode = (Mode)random.Next(3);
        var behaviour = random.NextDouble() switch { < 0.8 => FakeSummarizer.Behaviour.Summarize, < 0.9 => FakeSummarizer.Behaviour.Throw, _ => FakeSummarizer.Behaviour.Empty };
        var extras = mode == Mode.Live;
        var validator = new IndependentValidator();

        // A budget the history can always fit: twice what must be shown verbatim, up to more than the whole history.
        var keep = random.Next(1, 5);
        var pinned = validator.Count(System) + validator.Count(history.Task) + history.Steps.OfType<GeneratedStep.User>().Sum(u => validator.Count(u.Text) + 4)
            + history.Steps.OfType<GeneratedStep.Exchange>().Sum(e => e.InterleavedUser is null ? 0 : validator.Count(e.InterleavedUser) + 4);
        var calls = history.Steps.OfType<GeneratedStep.Exchange>().Select(e => e.Calls.Sum(c => 30 + validator.Count(c.Arguments.GetValueOrDefault("file_text"))
                + (mode == Mode.Live ? c.Images.Sum(i => IndependentValidator.ImageTokens(i.Uri)) : 0))
            + validator.Count(e.Text) + validator.Count(e.Reasoning)).DefaultIfEmpty(0).Max();
        var floor = (long)(1.3 * (pinned + (keep * calls))) + 1_500;
        var whole = history.Steps.OfType<GeneratedStep.Exchange>().Sum(e => e.Calls.Sum(c => (long)c.Output.Length / 3));
        var budget = floor + (long)(random.NextDouble() * random.NextDouble() * Math.Max(1_000, whole * 1.2));
        var reserve = random.Next(0, 8_000);
        var window = budget + reserve + ToolTokens;
        var settings = ContextSettings.For(window, null, reserve, new JobContextRequest { KeepExchanges = keep, OutputReserveTokens = reserve }, tiktokenModel: true);

        var driver = new SessionDriver(random);
        var summarizer = new FakeSummarizer(behaviour);
        var manager = new ContextManager(settings, TokenCounter.O200k, System, history.Task, ToolTokens, summarizer, driver.LogAsync);
        var problems = new List<string>();
        var split = mode == Mode.Resumed ? random.Next(0, history.Steps.Count + 1) : history.Steps.Count;
        for (var i = 0; i < history.Steps.Count; i++)
        {
            if (mode == Mode.Replayed)
            {
                driver.Play(history.Steps[i], null, extras: false);
                continue;
            }

            if (i == split)
            {
                // The run stops here and a new one rebuilds the context from the log: the same prompt, decisions and all.
                var before = JsonSerializer.Serialize(PromptShapes.OpenAI(manager.Assemble()));
                var resumed = new ContextManager(settings, TokenCounter.O200k, System, history.Task, ToolTokens, summarizer, driver.LogAsync);
                resumed.Replay(driver.Events.Skip(2));
                if (JsonSerializer.Serialize(PromptShapes.OpenAI(resumed.Assemble())) != before || resumed.ShownTokens != manager.ShownTokens)
                {
                    problems.Add($"the resumed manager rebuilt a different prompt ({resumed.ShownTokens} tokens, live {manager.ShownTokens})");
                }

                Interlocked.Increment(ref stats.Resumed);
                manager = resumed;
            }

            if (random.NextDouble() < 0.3)
            {
                var view = await manager.PrepareAsync();
                Interlocked.Increment(ref stats.Prompts);
                if (random.NextDouble() < 0.3)
                {
                    // The provider's count: a little over ours, as other tokenizers are.
                    var reported = (long)(view.RequestTokens * (1 + (random.NextDouble() * 0.1)));
                    driver.Append("usage", new { input_tokens = reported, prompt_tokens_estimate = view.RequestTokens });
                    manager.ObserveUsage(reported, view.RequestTokens);
                }
            }

            driver.Play(history.Steps[i], manager, extras && mode == Mode.Live);
        }

        if (mode == Mode.Replayed)
        {
            manager = new ContextManager(settings, TokenCounter.O200k, System, history.Task, ToolTokens, summarizer, driver.LogAsync);
            manager.Replay(driver.Events.Skip(2));
        }

        var final = await manager.PrepareAsync();
        Interlocked.Increment(ref stats.Prompts);
        if (final.Tokens > final.Budget || final.Budget > budget)
        {
            problems.Add($"the view has {final.Tokens} tokens for a budget of {final.Budget} (B = {budget})");
        }

        var facts = new PromptFacts(System, history.Task, driver.UserMessages, driver.Exchanges, manager.KeepExchanges, budget);
        problems.AddRange(validator.Check(final.Messages, facts));
        foreach (var decision in driver.Events.Where(e => e.Type == "context").Select(e => e.Data.GetProperty("action").GetString()))
        {
            _ = decision switch
            {
                ContextDecision.MaskAction => Interlocked.Increment(ref stats.Masked),
                ContextDecision.SummarizeAction => Interlocked.Increment(ref stats.Summaries),
                ContextDecision.DropAction => Interlocked.Increment(ref stats.Drops),
                ContextDecision.KeepAction => Interlocked.Increment(ref stats.KeepReductions),
                _ => 0,
            };
        }

        if (manager.KeepExchanges < keep && !driver.Events.Any(e => e.Type == "context" && e.Data.GetProperty("action").GetString() == ContextDecision.KeepAction))
        {
            problems.Add("K shrank without a logged decision");
        }

        InterlockedMax(ref stats.LargestHistory, manager.HistoryTokens);
        return problems;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private enum Mode { Live, Replayed, Resumed }

    private sealed class Stats
    {
        public int Masked;
        public int Summaries;
        public int Drops;
        public int KeepReductions;
        public int Resumed;
        public int Prompts;
        public long LargestHistory;
    }
}
