using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runable.Orchestrator.Agents;
using Runable.Orchestrator.Agents.Tools;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Tests.Context;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Orchestrator.Tests.Agents;

/// <summary>
/// A session past a million tokens end to end: a real orchestrator, a real sandbox, and a scripted model behind a real
/// OpenAI-compatible endpoint whose agent prints large outputs step after step in a 12k-token window. The scripted model
/// checks every request it receives — both wire shapes, the budget, the last exchange in full, older work masked or
/// summarized — writes the summaries it is asked for, and near the end reads a masked output back with read_event.
/// </summary>
public sealed partial class LongSessionTests : IAsyncLifetime
{
    private const int Window = 12_000;
    private const int Reserve = 1_500;
    private const int Steps = 40;
    private const int CallsPerStep = 3;
    private const int LinesPerOutput = 520;
    private const string Task = "Print the ledger's checksums, part by part, until the ledger is done.";
    private readonly string _data = Directory.CreateTempSubdirectory("runable-long-").FullName;
    private readonly List<string> _problems = [];
    private AgentHost _host = null!;
    private ScriptedModelServer _model = null!;
    private HttpClient _http = null!;
    private int _step;
    private int _summaries;
    private long _readBack;
    private string? _readBackText;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // Outputs reach the context whole (no head and tail saved in the sandbox): the context manager does the cutting.
        _host = await AgentHost.StartAsync(_data,
            agent: new AgentOptions { Tools = new AgentToolOptions { MaxOutputChars = 400_000, MaxOutputLines = 20_000 } }, cancellationToken: Ct);
        (_model, _http) = (_host.Model, _host.Http);
        _model.Responder = Respond;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task ASessionPastAMillionTokens_Completes_WithEveryPromptValidAndWithinBudget()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var submitted = await _http.PostAsJsonAsync("v1/jobs", new
        {
            task = Task,
            limits = new { max_steps = Steps + 10 },
            context = new { window_tokens = Window, output_reserve_tokens = Reserve },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = (await JsonAsync(submitted)).GetProperty("id").GetString()!;
        var job = await WaitForEndAsync(id, TimeSpan.FromSeconds(150));
        var events = await EventsAsync(id);

        Assert.True(_problems.Count == 0, string.Join("\n", _problems.Take(10)));
        Assert.Equal("succeeded", job.GetProperty("status").GetString());

        // Past a million tokens of history, counted anew from the log.
        var validator = new IndependentValidator();
        var history = events.Where(e => e.GetProperty("type").GetString() is "tool_result" or "assistant" or "tool_call")
            .Sum(e => (long)validator.Count(e.GetProperty("data").TryGetProperty("text", out var t) ? t.GetString() : e.GetProperty("data").ToString()));
        Assert.True(history > 1_000_000, $"the history has {history} tokens");

        // Masks and summaries happened, each logged; every step's prompt was within the window.
        var actions = events.Where(e => e.GetProperty("type").GetString() == "context").Select(e => e.GetProperty("data").GetProperty("action").GetString()).ToList();
        Assert.Contains("mask", actions);
        Assert.Contains("summarize", actions);
        Assert.True(_summaries >= 1);
        foreach (var usage in events.Where(e => e.GetProperty("type").GetString() == "usage").Select(e => e.GetProperty("data")))
        {
            Assert.True(usage.GetProperty("input_tokens").GetInt64() <= Window - Reserve, $"a step sent {usage.GetProperty("input_tokens")} tokens (as the server counts)");
        }

        // The masked output read back in full through read_event.
        Assert.NotNull(_readBackText);
        Assert.Contains("[end of event", _readBackText, StringComparison.Ordinal);
        // The seed-compatible routes: the manager's view of this job for a smaller budget, and a snapshot saved and loaded back.
        using var pruned = await _http.PostAsJsonAsync($"proxy/{id}/context/prune", new { job_id = id, max_tokens = 6_000 }, Ct);
        Assert.Equal(HttpStatusCode.OK, pruned.StatusCode);
        var view = await JsonAsync(pruned);
        Assert.True(view.GetProperty("tokens").GetInt64() <= view.GetProperty("budget").GetInt64());
        var prunedMessages = JsonNode.Parse(view.GetProperty("messages").GetRawText())!.AsArray();
        var toolTokens = view.GetProperty("tool_tokens").GetInt64();
        Assert.Empty(validator.CheckOpenAI(prunedMessages, new PromptFacts(null, Task, [], [], 0, 6_000 - toolTokens))
            .Concat(IndependentValidator.CheckAnthropic(PromptShapes.FromOpenAI(prunedMessages))));
        var views = view.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("view").GetString()).ToHashSet();
        Assert.Contains("summarized", views);
        Assert.Contains("full", views);
        using var tooSmall = await _http.PostAsJsonAsync($"proxy/{id}/context/prune", new { max_tokens = 1_000 }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooSmall.StatusCode);

        using var missing = await _http.GetAsync($"proxy/{id}/context/load?name=before", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var saved = await _http.PostAsJsonAsync($"proxy/{id}/context/save", new { name = "before" }, Ct);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var loaded = await JsonAsync(await _http.GetAsync($"proxy/{id}/context/load?name=before", Ct));
        Assert.Equal((await JsonAsync(saved)).GetProperty("messages").GetInt32(), loaded.GetProperty("messages").GetArrayLength());
        Assert.Equal(Task, loaded.GetProperty("messages")[1].GetProperty("content").GetString());

        TestContext.Current.SendDiagnosticMessage($"{Steps} steps, {history} tokens of history, {actions.Count(a => a == "mask")} masks, {actions.Count(a => a == "summarize")} summaries, {watch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The scripted model: checks the request, then answers the session's next turn.</summary>
    private ScriptedTurn Respond(RecordedRequest request)
    {
        try
        {
            if (request.ToolNames.Count == 0)
            {
                return Summarize(request);
            }

            var step = ++_step;
            Check(request, step);
            if (step <= Steps)
            {
                return ScriptedTurn.Calls([.. Enumerable.Range(1, CallsPerStep).Select(part => ScriptedToolCall.Of("bash", new
                {
                    command = $"python3 -c \"import sys; sys.stdout.write(''.join(f'step {step} part {part} line {{i}}: checksum {{(i * 7919 + {step * 31 + part}) % 100003}} status ok\\n' for i in range({LinesPerOutput})))\"",
                }, $"s{step}p{part}"))]);
            }

            if (step == Steps + 1)
            {
                // Read back an output the prompt shows only as a one-line note.
                var masked = MaskLine().Match(string.Join("\n", request.Messages.Select(m => (string?)m?["content"] is { } c ? c : "")));
                if (!masked.Success)
                {
                    _problems.Add("no masked output to read back");
                    return ScriptedTurn.Reply("stop");
                }

                _readBack = long.Parse(masked.Groups[1].Value, CultureInfo.InvariantCulture);
                return ScriptedTurn.Calls(ScriptedToolCall.Of("read_event", new { id = _readBack, max_tokens = 32_000 }, "read_back"));
            }

            _readBackText = request.Messages.Where(m => (string?)m?["role"] == "tool" && (string?)m!["tool_call_id"] == "read_back").Select(m => (string?)m!["content"]).LastOrDefault();
            if (_readBackText is null || !_readBackText.Contains("status ok", StringComparison.Ordinal))
            {
                _problems.Add($"read_event({_readBack}) did not return the output: {_readBackText?[..Math.Min(300, _readBackText.Length)]}");
            }

            return ScriptedTurn.Calls(ScriptedToolCall.Of("finish", new { summary = "printed every part" }, "done"));
        }
        catch (Exception e)
        {
            _problems.Add($"request {_step}: {e}");
            return ScriptedTurn.Reply("stop");
        }
    }

    private ScriptedTurn Summarize(RecordedRequest request)
    {
        _summaries++;
        var validator = new IndependentValidator();
        var tokens = validator.Tokens(request.Messages);
        if (request.Messages.Count != 2 || tokens > Window - Reserve)
        {
            _problems.Add($"summarizer request {_summaries}: {request.Messages.Count} messages, {tokens} tokens");
        }

        return ScriptedTurn.Reply("Goal\n- print every part of the ledger\nState of the code\n- unchanged\nTests\n- none\nChanges\n- none\nDecisions\n- print with python3\nOpen questions\n- none");
    }

    private void Check(RecordedRequest request, int step)
    {
        var messages = request.Messages;
        var validator = new IndependentValidator();
        var tools = (request.Body?["tools"] as JsonArray ?? []).OfType<JsonObject>()
            .Sum(t => 8 + validator.Count((string?)t["function"]?["name"]) + validator.Count((string?)t["function"]?["description"]) + validator.Count(t["function"]?["parameters"]?.ToJsonString()));
        var facts = new PromptFacts(null, Task, [], [], 0, Window - Reserve - tools);
        foreach (var problem in validator.CheckOpenAI(messages, facts).Concat(IndependentValidator.CheckAnthropic(PromptShapes.FromOpenAI(messages))))
        {
            _problems.Add($"step {step}: {problem}");
        }

        var results = messages.OfType<JsonObject>().Where(m => (string?)m["role"] == "tool").ToDictionary(m => (string)m["tool_call_id"]!, m => (string?)m["content"] ?? "");
        if (step > 1 && step <= Steps + 1)
        {
            // The last exchange in full (or its head and tail, as it joined), the older ones named.
            for (var part = 1; part <= CallsPerStep; part++)
            {
                var shown = results.GetValueOrDefault($"s{step - 1}p{part}");
                if (shown is null || !shown.StartsWith($"step {step - 1} part {part} line 0:", StringComparison.Ordinal)
                    || !(shown.EndsWith("[exit code: 0]", StringComparison.Ordinal) || shown.Contains("left out to fit the context", StringComparison.Ordinal)))
                {
                    _problems.Add($"step {step}: the output of s{step - 1}p{part} is not shown in full: {shown?[..Math.Min(200, shown.Length)]}");
                }
            }
        }

        var covered = messages.OfType<JsonObject>().Any(m => (string?)m["role"] == "user" && ((string?)m["content"])?.StartsWith("[Earlier work in this job", StringComparison.Ordinal) == true);
        for (var earlier = 1; earlier < step - 1 && earlier <= Steps; earlier++)
        {
            var shown = results.GetValueOrDefault($"s{earlier}p1");
            if (shown is null ? !covered : !(shown.StartsWith("[tool output #", StringComparison.Ordinal) || shown.StartsWith($"step {earlier} part 1", StringComparison.Ordinal)))
            {
                _problems.Add($"step {step}: step {earlier}'s output is neither shown, masked nor summarized");
            }
        }
    }

    private async Task<List<JsonElement>> EventsAsync(string id)
    {
        var events = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = (await JsonAsync(await _http.GetAsync($"v1/jobs/{id}/events?after={after}&limit=1000", Ct))).EnumerateArray().ToList();
            events.AddRange(page);
            if (page.Count < 1000)
            {
                return events;
            }

            after = page[^1].GetProperty("seq").GetInt64();
        }
    }

    private async Task<JsonElement> WaitForEndAsync(string id, TimeSpan limit)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var job = await JsonAsync(await _http.GetAsync($"v1/jobs/{id}", Ct));
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled" or "timed_out")
            {
                return job;
            }

            Assert.True(watch.Elapsed < limit, $"job {id} is still {job.GetProperty("status").GetString()} after step {_step}: {string.Join("\n", _problems.Take(5))}");
            await System.Threading.Tasks.Task.Delay(200, Ct);
        }
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();

    [GeneratedRegex(@"\[tool output #(\d+): exit 0, \d+ lines — recall it with read_event\]")]
    private static partial Regex MaskLine();
}
