using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context.Recall;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>The agent's <c>recall</c> and <c>read_event</c> tools as a model calls them: JSON arguments in, text out, errors as <c>Error:</c> text.</summary>
public sealed partial class RecallToolsTests : IDisposable
{
    private readonly RecallTestStore _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task TheTools_AreNamedAndDescribedForModels_WithTheirArgumentsInTheSchema()
    {
        var job = await _db.SubmitAsync("t");
        var tools = RecallTools.Create(_db.Index, "t", job.Id);

        Assert.Equal([RecallTools.RecallName, RecallTools.ReadEventName], tools.Select(t => t.Name));
        var recall = tools[0].JsonSchema;
        Assert.Equal(["query"], recall.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5, recall.GetProperty("properties").GetProperty("k").GetProperty("default").GetInt32());
        var read = tools[1].JsonSchema.GetProperty("properties");
        Assert.Equal(["id", "offset", "max_tokens"], read.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2000, read.GetProperty("max_tokens").GetProperty("default").GetInt32());
        Assert.Contains("read_event", tools[0].Description, StringComparison.Ordinal);
        Assert.Contains("recall", tools[1].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recall_ListsTheHitsWithIdTypeSnippetAndScore()
    {
        var job = await _db.SubmitAsync("t");
        await _db.ToolResultAsync(job.Id, "collected 212 items\n\nFAILED tests/test_fx.py::test_convert_amount_eur_to_jpy - KeyError: 'JPY'");
        for (var i = 0; i < 10; i++)
        {
            await _db.ToolResultAsync(job.Id, $"compiled module {i} of 10");
        }

        const string Output = "ledger/fx/rates.py:57:def convert_amount(amount, currency, at):";
        var seq = await _db.ToolResultAsync(job.Id, Output);
        var tools = RecallTools.Create(_db.Index, "t", job.Id);

        var text = await CallAsync(tools[0], """{"query": "where is convert_amount defined", "k": 1}""");
        Assert.Equal($"""
            1 event of this job match "where is convert_amount defined", best first (ranked by shared words):
            #{seq} tool_result bash, {Output.Length} chars, score {ScoreOf(text)}: {Output}
            Read one in full with read_event(id).
            """, text);

        var none = await CallAsync(tools[0], """{"query": "kubernetes helm chart"}""");
        Assert.StartsWith("No event of this job matches \"kubernetes helm chart\".", none, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadEvent_PagesThroughALongOutput_ExactlyOnce_AndSaysWhatRemains()
    {
        var job = await _db.SubmitAsync("t");
        var output = string.Concat(Enumerable.Range(1, 3000).Select(i => $"{i:D5} PASSED tests/test_bulk.py::test_row_{i}\n"));
        var seq = await _db.ToolResultAsync(job.Id, output);
        var read = RecallTools.Create(_db.Index, "t", job.Id)[1];

        var pages = new List<string>();
        var offset = 0L;
        while (true)
        {
            var page = await CallAsync(read, $$"""{"id": {{seq}}, "offset": {{offset}}, "max_tokens": 1000}""");
            var header = HeaderPattern().Match(page);
            Assert.True(header.Success, page);
            Assert.Equal((output.Length, offset), (long.Parse(header.Groups[1].Value), long.Parse(header.Groups[2].Value)));
            var end = long.Parse(header.Groups[3].Value);
            Assert.InRange(end - offset, end == output.Length ? 1 : 3000, 4000); // about 1000 tokens, ending at a line break
            var body = page[(header.Length)..page.LastIndexOf("\n[", StringComparison.Ordinal)];
            pages.Add(body.EndsWith('\n') ? body : body + "\n");
            if (page.EndsWith($"[end of event #{seq}]", StringComparison.Ordinal))
            {
                Assert.Equal(output.Length, end);
                break;
            }

            Assert.EndsWith($"[{output.Length - end} characters remain: read_event(id={seq}, offset={end}) continues]", page, StringComparison.Ordinal);
            offset = end;
        }

        Assert.Equal(output, string.Concat(pages));
        Assert.True(pages.Count > 10);
    }

    [Fact]
    public async Task ReadEvent_TakesAnIdAsAModelWritesIt_AndDefaultsTheRest()
    {
        var job = await _db.SubmitAsync("t");
        var seq = await _db.ToolCallAsync(job.Id, "str_replace_based_edit_tool", new { command = "view", path = "/workspace/setup.cfg" });
        var read = RecallTools.Create(_db.Index, "t", job.Id)[1];

        var expected = $"""
            Event #{seq} (tool_call of str_replace_based_edit_tool), 40 characters; characters 0 to 40:
            command: view
            path: /workspace/setup.cfg
            [end of event #{seq}]
            """;
        Assert.Equal(expected, await CallAsync(read, $$"""{"id": "#{{seq}}"}"""));
        Assert.Equal(expected, await CallAsync(read, $$"""{"id": {{seq}}.0, "offset": "0"}"""));
    }

    [Theory]
    [InlineData("recall", """{}""", "Error: 'query' is required.")]
    [InlineData("recall", """{"query": null}""", "Error: 'query' is required.")]
    [InlineData("recall", """{"query": ["a"]}""", "Error: 'query' must be a string.")]
    [InlineData("recall", """{"query": "?!"}""", "Error: 'query' has no word to search for")]
    [InlineData("recall", """{"query": "x", "k": 0}""", "Error: 'k' must be 1 to 50; it was 0.")]
    [InlineData("recall", """{"query": "x", "k": 51}""", "Error: 'k' must be 1 to 50; it was 51.")]
    [InlineData("recall", """{"query": "x", "k": "five"}""", "Error: 'k' must be an integer.")]
    [InlineData("recall", """{"query": "x", "k": 2.5}""", "Error: 'k' must be an integer.")]
    [InlineData("read_event", """{}""", "Error: 'id' is required.")]
    [InlineData("read_event", """{"id": 0}""", "Error: 'id' must be an event id of this job (1 or more)")]
    [InlineData("read_event", """{"id": 999}""", "Error: this job has no event #999. Use an id that recall returned.")]
    [InlineData("read_event", """{"id": 2, "offset": -1}""", "Error: 'offset' must be 0 or more; it was -1.")]
    [InlineData("read_event", """{"id": 2, "offset": 11}""", "Error: event #2 has 11 characters, so 'offset' must be below 11; it was 11.")]
    [InlineData("read_event", """{"id": 2, "max_tokens": 0}""", "Error: 'max_tokens' must be 1 to 32000; it was 0.")]
    [InlineData("read_event", """{"id": 2, "max_tokens": true}""", "Error: 'max_tokens' must be an integer.")]
    public async Task BadArguments_AreErrorsTheModelCanFix_NotExceptions(string tool, string arguments, string error)
    {
        var job = await _db.SubmitAsync("t");
        Assert.Equal(2, await _db.ToolResultAsync(job.Id, "hello world"));
        var function = RecallTools.Create(_db.Index, "t", job.Id).Single(f => f.Name == tool);

        Assert.StartsWith(error, await CallAsync(function, arguments), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTools_OfOneJob_NeverReachAnotherJobsEvents()
    {
        var mine = await _db.SubmitAsync("a");
        var theirs = await _db.SubmitAsync("b");
        await _db.ToolResultAsync(mine.Id, "nothing here");
        var secret = await _db.ToolResultAsync(theirs.Id, "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIbPxRfiCYzEXAMPLEKEY written to .env");
        var tools = RecallTools.Create(_db.Index, "a", mine.Id);

        Assert.StartsWith("No event of this job matches", await CallAsync(tools[0], """{"query": "AWS_SECRET_ACCESS_KEY wJalrXUtnFEMIbPxRfiCYzEXAMPLEKEY"}"""), StringComparison.Ordinal);
        Assert.StartsWith($"Error: this job has no event #{secret + 1}", await CallAsync(tools[1], $$"""{"id": {{secret + 1}}}"""), StringComparison.Ordinal);

        // Tools made for a job of another tenant (a wiring mistake) answer nothing of it.
        var crossed = RecallTools.Create(_db.Index, "a", theirs.Id);
        Assert.Equal("Error: this job's history is not available to search.", await CallAsync(crossed[0], """{"query": "AWS_SECRET_ACCESS_KEY"}"""));
        Assert.Equal("Error: this job's history is not available to search.", await CallAsync(crossed[1], $$"""{"id": {{secret}}}"""));
    }

    private static async Task<string> CallAsync(AIFunction function, string json)
    {
        var arguments = new AIFunctionArguments(JsonDocument.Parse(json).RootElement.EnumerateObject()
            .ToDictionary(p => p.Name, p => (object?)p.Value.Clone()));
        return Assert.IsType<string>(await function.InvokeAsync(arguments, Ct));
    }

    private static string ScoreOf(string text) => Regex.Match(text, @"score ([0-9.]+):").Groups[1].Value;

    [GeneratedRegex(@"^Event #\d+ \(tool_result of bash\), (\d+) characters; characters (\d+) to (\d+):\n")]
    private static partial Regex HeaderPattern();
}
