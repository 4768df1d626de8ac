using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>The context manager's policies one at a time, each on a session built to reach it.</summary>
public sealed class ContextManagerTests
{
    private const string System = "You are a careful software engineer.";
    private const string Task = "Make the ledger tests pass.";

    private static ContextSettings Settings(long window = 12_000, int keep = 1) =>
        new() { WindowTokens = window, OutputReserveTokens = 1_000, KeepExchanges = keep, SummaryMaxTokens = 400, SummarizerInputTokens = 2_000, MaxResultTokens = 2_000 };

    private static string Lines(int count, string word = "line") =>
        string.Concat(Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{word} {i} of the build log\n")));

    private static long _seq;

    private static void Exchange(ContextManager manager, string id, string output, bool isError = false, string name = "bash")
    {
        var seq = Interlocked.Add(ref _seq, 3);
        manager.AddExchange(seq, [new FunctionCallContent(id, name, new Dictionary<string, object?> { ["command"] = "cargo test" })],
            [new ToolOutcome(id, name, seq + 1, seq + 2, output, isError, [])]);
    }

    [Fact]
    public async Task OldOutputs_PastSixtyPercent_AreMaskedInOneBatch_AsOneLineNamingTheirEvent()
    {
        var log = new List<ContextDecision>();
        var manager = new ContextManager(Settings(window: 20_000, keep: 2), TokenCounter.O200k, System, Task, 500, null, (d, _) => { log.Add(d); return global::System.Threading.Tasks.Task.CompletedTask; });
        Exchange(manager, "call_a", Lines(811) + "[exit code: 1]");
        var masked = manager.Units[^1].Outcomes[0].ResultSeq;
        for (var i = 0; i < 6; i++)
        {
            Exchange(manager, $"call_{i}", Lines(400));
        }

        var view = await manager.PrepareAsync(TestContext.Current.CancellationToken);

        var line = $"[tool output #{masked}: exit 1, 812 lines — recall it with read_event]";
        Assert.Contains(view.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>(), r => (string?)r.Result == line);
        var mask = Assert.Single(log, d => d.Action == ContextDecision.MaskAction);
        Assert.Contains(masked!.Value, mask.Outputs!);
        Assert.True(mask.TokensAfter <= 0.45 * mask.Budget + 200, $"one batch should bring the prompt well under the threshold: {mask.TokensAfter} of {mask.Budget}");
        Assert.True(view.Tokens <= view.Budget);
        // The last two exchanges stay whole.
        var results = view.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
        Assert.All(results[^2..], r => Assert.DoesNotContain("recall it with read_event", (string)r.Result!, StringComparison.Ordinal));
        Assert.Empty(new IndependentValidator().Check(view.Messages, new PromptFacts(System, Task, [], [], 0, view.Budget)));
    }

    [Fact]
    public async Task PastEightyFivePercent_TheOldestSpanIsSummarized_FromItsOutputsCutToSize_WithItsIdentifiersVerbatim_AndSummariesRollUp()
    {
        var summarizer = new FakeSummarizer();
        var log = new List<ContextDecision>();
        var manager = new ContextManager(Settings(window: 6_000), TokenCounter.O200k, System, Task, 500, summarizer, (d, _) => { log.Add(d); return global::System.Threading.Tasks.Task.CompletedTask; });
        manager.AddUserMessage(1, "Keep the public API of LedgerPool as it is.");
        Exchange(manager, "call_first", "error[E0502]: cannot borrow `pool` as mutable\n --> src/ledger/pool.rs:88:9\n" + Lines(3000, "noise"));
        for (var round = 0; round < 400 && log.Count(d => d.Action == ContextDecision.SummarizeAction) < 2; round++)
        {
            Exchange(manager, $"call_{round}", Lines(40));
            var view = await manager.PrepareAsync(TestContext.Current.CancellationToken);
            Assert.True(view.Tokens <= view.Budget);
        }

        var summaries = log.Where(d => d.Action == ContextDecision.SummarizeAction).ToList();
        Assert.Equal(2, summaries.Count);
        var first = summarizer.Requests[0];
        Assert.Null(first.PreviousSummary);
        Assert.Contains("E0502", first.Transcript, StringComparison.Ordinal);
        Assert.True(first.Transcript.Length < 12_000, $"the summarizer should read outputs cut to size, not {first.Transcript.Length} characters");
        Assert.Contains("src/ledger/pool.rs", summaries[0].Summary, StringComparison.Ordinal); // carried verbatim though the summary dropped it
        Assert.NotNull(summarizer.Requests[^1].PreviousSummary); // the second rolls the first up

        var prompt = manager.Assemble();
        var cover = Assert.Single(prompt, m => m.Text.StartsWith("[Earlier work in this job", StringComparison.Ordinal));
        Assert.Contains("Summary of events #", cover.Text, StringComparison.Ordinal);
        Assert.Contains(prompt, m => m.Text == "Keep the public API of LedgerPool as it is."); // user messages stay verbatim
    }

    [Fact]
    public async Task ASummarizerThatFails_IsAskedTwiceAtMost_AndTheOldestSpanIsDroppedWithANote()
    {
        var summarizer = new FakeSummarizer(FakeSummarizer.Behaviour.Throw);
        var log = new List<ContextDecision>();
        var manager = new ContextManager(Settings(window: 6_000), TokenCounter.O200k, System, Task, 500, summarizer, (d, _) => { log.Add(d); return global::System.Threading.Tasks.Task.CompletedTask; });
        for (var round = 0; round < 120; round++)
        {
            Exchange(manager, $"call_{round}", Lines(40));
            var view = await manager.PrepareAsync(TestContext.Current.CancellationToken);
            Assert.True(view.Tokens <= view.Budget);
        }

        Assert.Equal(2, summarizer.Requests.Count);
        Assert.Equal(2, log.Count(d => d.Action == ContextDecision.SummarizeFailedAction));
        Assert.Contains(log, d => d.Action == ContextDecision.DropAction);
        var cover = manager.Assemble().Single(m => m.Text.StartsWith("[Earlier work", StringComparison.Ordinal));
        Assert.Matches(@"Events #\d+ to #\d+ were left out without a summary", cover.Text);
        Assert.Single(cover.Text.Split("were left out").Skip(1)); // one note for the whole dropped prefix
    }

    [Fact]
    public async Task ContextTooLong_ShrinksThePromptByAFifth_AndAfterThreeInARowTheCircuitOpens()
    {
        var log = new List<ContextDecision>();
        var manager = new ContextManager(Settings(window: 20_000), TokenCounter.O200k, System, Task, 500, null, (d, _) => { log.Add(d); return global::System.Threading.Tasks.Task.CompletedTask; });
        var before = manager.Budget;
        await manager.ShrinkAfterOverflowAsync("HTTP 400: maximum context length", TestContext.Current.CancellationToken);
        Assert.InRange(manager.Budget, (long)(before * 0.78), (long)(before * 0.82) + 500);
        manager.ObserveUsage(1_000, 2_000); // a lower count does not undo what the refusal taught
        Assert.Equal(1.25, manager.Calibration, 3);

        await manager.ShrinkAfterOverflowAsync("again", TestContext.Current.CancellationToken);
        await manager.ShrinkAfterOverflowAsync("again", TestContext.Current.CancellationToken);
        await manager.ShrinkAfterOverflowAsync("again", TestContext.Current.CancellationToken);
        var open = await Assert.ThrowsAsync<ContextBudgetException>(() => manager.ShrinkAfterOverflowAsync("again", TestContext.Current.CancellationToken));
        Assert.Contains("context.window_tokens", open.Message, StringComparison.Ordinal);
        Assert.Equal(3, log.Count(d => d.Action == ContextDecision.OverflowAction) - 1);
    }

    [Fact]
    public async Task AHugeOutput_KeepsItsHeadAndTail_WithThePlaceToReadOnFrom()
    {
        var manager = new ContextManager(Settings(window: 10_000), TokenCounter.O200k, System, Task, 500, null);
        var output = "FIRST LINE\n" + Lines(20_000) + "error: the last line says what failed\n";
        Exchange(manager, "call_huge", output);
        var view = await manager.PrepareAsync(TestContext.Current.CancellationToken);
        var shown = (string)view.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single().Result!;
        Assert.StartsWith("FIRST LINE", shown, StringComparison.Ordinal);
        Assert.EndsWith("error: the last line says what failed\n", shown, StringComparison.Ordinal);
        Assert.Matches(@"the whole output is event #\d+: read_event\(id=\d+, offset=\d+\) reads on from here", shown);
        Assert.True(IndependentValidator.IsWholeOrCapped(shown, output));
        Assert.True(view.Tokens <= view.Budget);
    }

    [Fact]
    public async Task WhenNothingElseIsLeftToPrune_FewerExchangesAreKeptInFull_AndTheDecisionIsLogged()
    {
        var log = new List<ContextDecision>();
        var manager = new ContextManager(Settings(window: 10_000, keep: 3), TokenCounter.O200k, System, Task, 500, null, (d, _) => { log.Add(d); return global::System.Threading.Tasks.Task.CompletedTask; });
        manager.AddUserMessage(1, Lines(850, "requirement"));
        for (var i = 0; i < 3; i++)
        {
            Exchange(manager, $"call_{i}", Lines(400));
        }

        var view = await manager.PrepareAsync(TestContext.Current.CancellationToken);

        Assert.True(view.Tokens <= view.Budget);
        Assert.InRange(manager.KeepExchanges, 1, 2);
        Assert.Equal(manager.KeepExchanges, log.Last(d => d.Action == ContextDecision.KeepAction).Keep);
        Assert.Empty(new IndependentValidator().Check(view.Messages, new PromptFacts(System, Task, [Lines(850, "requirement")], [], 0, view.Budget)));
        Assert.Contains(view.Messages, m => m.Text == Lines(850, "requirement"));
    }

    [Fact]
    public async Task WhatMustBeShownVerbatim_OverTheBudget_StopsWithAMessageSayingWhatToChange()
    {
        var manager = new ContextManager(Settings(window: 3_000), TokenCounter.O200k, System, new StringBuilder().Insert(0, "a long task ", 2_000).ToString(), 500, null);
        var error = await Assert.ThrowsAsync<ContextBudgetException>(() => manager.PrepareAsync(TestContext.Current.CancellationToken));
        Assert.Contains("context.window_tokens", error.Message, StringComparison.Ordinal);
    }
}
