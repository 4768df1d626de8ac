using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// The catalog's Anthropic client (the Anthropic SDK's IChatClient), over real HTTP against the scripted server's
/// Messages endpoint: streamed text and tool calls whose input arrives as <c>input_json_delta</c> pieces, usage and
/// cost, tool results sent back, and retries of an overloaded server.
/// </summary>
public sealed class AnthropicClientTests : IAsyncLifetime
{
    private ScriptedModelServer _server = null!;
    private ModelCatalog _catalog = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await ScriptedModelServer.StartAsync(Ct);
        var settings = ModelSettings.Load(null, ModelTestSettings.Environment(
            ("ANTHROPIC_BASE_URL", _server.Root.ToString()), ("ANTHROPIC_API_KEY", ModelTestSettings.Key), ("RUNABLE_MODEL", "anthropic:claude-test")));
        _catalog = new ModelCatalog(settings with
        {
            Catalog = [new ModelEntry { Model = "anthropic:claude-test", MaxOutputTokens = 4096, InputUsdPerMillion = 3m, OutputUsdPerMillion = 15m, CachedInputUsdPerMillion = 0.3m }],
            Retry = new ModelRetryOptions { MaxAttempts = 3 },
        }, new RecordingTimeProvider());
    }

    public async ValueTask DisposeAsync()
    {
        _catalog.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Text_NotStreamed_ReturnsTheReply_WithTheKeyAndMaxTokensSent_AndCost()
    {
        _server.Enqueue(ScriptedTurn.Reply("Done.").WithUsage(input: 10_000, output: 1_000));
        var model = _catalog.Resolve();

        var response = await model.Client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be terse."), new ChatMessage(ChatRole.User, "status?")], cancellationToken: Ct);

        Assert.Equal("Done.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal((10_000L, 1_000L), (response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount));
        Assert.Equal(0.03m + 0.015m, model.Info.CostUsd(response.Usage));
        var request = Assert.Single(_server.Requests);
        Assert.Equal("/v1/messages", request.Path);
        // SDK 13.x sends the key as a bearer token; older ones used x-api-key. Either way it must be ours.
        Assert.True(request.ApiKeyHeader == ModelTestSettings.Key || request.Authorization == "Bearer " + ModelTestSettings.Key);
        Assert.Equal(("claude-test", 4096), ((string?)request.Body?["model"], (int?)request.Body?["max_tokens"]));
        Assert.Contains("Be terse.", request.Body?["system"]?.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolCalls_Streamed_WithInputJsonDeltas_AreReassembled_AndTheirResultsGoBackWithTheirIds()
    {
        _server.Enqueue(
            ScriptedTurn.Calls(
                ScriptedToolCall.Of("read_file", new { path = "README.md" }, "toolu_read"),
                ScriptedToolCall.Of("run", new { command = "make test", timeout_s = 60 }, "toolu_run")).WithUsage(input: 500, output: 80),
            ScriptedTurn.Reply("All green."));
        var client = _catalog.Resolve().Client;
        var options = new ChatOptions
        {
            Tools =
            [
                AIFunctionFactory.Create((string path) => "", "read_file", "Reads a file."),
                AIFunctionFactory.Create((string command, int timeout_s) => "", "run", "Runs a command."),
            ],
        };
        List<ChatMessage> history = [new(ChatRole.User, "check the readme and run the tests")];

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(history, options, Ct))
        {
            updates.Add(update);
        }

        var first = updates.ToChatResponse();
        var calls = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(["toolu_read:read_file", "toolu_run:run"], calls.Select(c => $"{c.CallId}:{c.Name}"));
        Assert.Equal("README.md", Arg(calls[0], "path"));
        Assert.Equal(("make test", "60"), (Arg(calls[1], "command"), Arg(calls[1], "timeout_s")));
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal((500L, 80L), (first.Usage?.InputTokenCount, first.Usage?.OutputTokenCount));
        Assert.True(_server.Requests[0].Stream);
        Assert.Equal(["read_file", "run"], _server.Requests[0].ToolNames);

        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("toolu_read", "# Readme"), new FunctionResultContent("toolu_run", "ok")]));
        var second = await client.GetResponseAsync(history, options, Ct);

        Assert.Equal("All green.", second.Text);
        var blocks = _server.Requests[1].Messages.SelectMany(m => m?["content"] as JsonArray ?? []).ToList();
        var uses = blocks.Where(b => (string?)b?["type"] == "tool_use").ToList();
        Assert.Equal(["toolu_read", "toolu_run"], uses.Select(b => (string?)b?["id"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"command":"make test","timeout_s":60}"""), uses[1]?["input"]));
        var results = blocks.Where(b => (string?)b?["type"] == "tool_result").Select(b => $"{b?["tool_use_id"]}={ResultText(b)}");
        Assert.Equal(["toolu_read=# Readme", "toolu_run=ok"], results);
    }

    [Fact]
    public async Task CachedInput_IsReported_AndChargedAtTheCachedPrice()
    {
        _server.Enqueue(ScriptedTurn.Reply("cached").WithUsage(input: 100_000, output: 0, cachedInput: 90_000));
        var model = _catalog.Resolve();

        var response = await model.Client.GetResponseAsync([new ChatMessage(ChatRole.User, "again")], cancellationToken: Ct);

        // The server reports 10,000 fresh input tokens and 90,000 read from the cache.
        Assert.Equal(90_000L, response.Usage?.CachedInputTokenCount);
        Assert.Equal(100_000L, response.Usage?.InputTokenCount);
        Assert.Equal(0.03m + 0.027m, model.Info.CostUsd(response.Usage));
    }

    [Fact]
    public async Task Overloaded_ThenRateLimited_IsRetried_WhileStreaming()
    {
        _server.Enqueue(ScriptedTurn.Reply("back again").After(ScriptedFailure.ServerError(529)).After(ScriptedFailure.RateLimited(2)));

        var text = "";
        await foreach (var update in _catalog.Resolve().Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: Ct))
        {
            text += update.Text;
        }

        Assert.Equal("back again", text);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task OverloadedErrorEvent_BeforeAnyContent_IsRetried()
    {
        _server.Enqueue(ScriptedTurn.Reply("recovered").After(ScriptedFailure.StreamError("overloaded_error")));

        var text = "";
        await foreach (var update in _catalog.Resolve().Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: Ct))
        {
            text += update.Text;
        }

        Assert.Equal("recovered", text);
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task InvalidRequestErrorEvent_IsNotRetried()
    {
        _server.Enqueue(ScriptedTurn.Reply("never").After(ScriptedFailure.StreamError("invalid_request_error"), times: 3));

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var update in _catalog.Resolve().Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: Ct))
            {
                Assert.Fail("no content was scripted before the error");
            }
        });

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Unauthorized_FailsAtOnce()
    {
        _server.Enqueue(ScriptedTurn.Reply("never").After(ScriptedFailure.WithStatus(401), times: 5));

        await Assert.ThrowsAnyAsync<Exception>(() => _catalog.Resolve().Client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: Ct));

        Assert.Single(_server.Requests);
    }

    private static string? Arg(FunctionCallContent call, string name) => call.Arguments?[name] switch
    {
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        { } other => other.ToString(),
        null => null,
    };

    private static string? ResultText(JsonNode? block) => block?["content"] switch
    {
        JsonValue value => (string?)value,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"])),
        _ => null,
    };
}
