using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// The catalog's client for an OpenAI-compatible endpoint, over real HTTP against the scripted server: text, streams,
/// parallel tool calls whose arguments arrive in pieces, tool results sent back, usage and cost.
/// </summary>
public sealed class OpenAICompatibleClientTests : IAsyncLifetime
{
    private ScriptedModelServer _server = null!;
    private ModelCatalog _catalog = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await ScriptedModelServer.StartAsync(Ct);
        _catalog = new ModelCatalog(ModelTestSettings.OpenAI(_server), new RecordingTimeProvider());
    }

    public async ValueTask DisposeAsync()
    {
        _catalog.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Text_NotStreamed_ReturnsTheReply_SendsTheKeyAndMessages_AndReportsUsageAndCost()
    {
        _server.Enqueue(ScriptedTurn.Reply("The build is green.").WithUsage(input: 1_200, output: 300, cachedInput: 200));
        var model = _catalog.Resolve();

        var response = await model.Client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "You fix builds."), new ChatMessage(ChatRole.User, "Is the build green?")], cancellationToken: Ct);

        Assert.Equal("The build is green.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal((1_200L, 300L, 200L), (response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, response.Usage?.CachedInputTokenCount));
        // 1,000 fresh input tokens at $2/M, 200 cached at $0.50/M, 300 output at $8/M.
        Assert.Equal(0.0020m + 0.0001m + 0.0024m, model.Info.CostUsd(response.Usage));
        Assert.Equal((128_000, "openai:scripted-model"), (model.Info.ContextWindow, model.Info.Spec.ToString()));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer " + ModelTestSettings.Key, request.Authorization);
        Assert.Equal("scripted-model", (string?)request.Body?["model"]);
        Assert.False(request.Stream);
        Assert.Equal(["system:You fix builds.", "user:Is the build green?"], request.Messages.Select(m => $"{m?["role"]}:{Text(m)}"));
    }

    [Fact]
    public async Task Text_Streamed_ArrivesInPieces_AndEndsWithUsage()
    {
        _server.Enqueue(ScriptedTurn.Reply("Reading the failing test first.").WithUsage(input: 50, output: 7));
        var model = _catalog.Resolve("scripted-model");

        var updates = await Collect(model.Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")], cancellationToken: Ct));

        Assert.True(updates.Count(u => u.Text.Length > 0) >= 5, "the reply should arrive word by word");
        var response = updates.ToChatResponse();
        Assert.Equal("Reading the failing test first.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal((50L, 7L), (response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount));
        Assert.Equal(0.000156m, model.Info.CostUsd(response.Usage));
        var request = Assert.Single(_server.Requests);
        Assert.True(request.Stream);
        Assert.True(request.Body?["stream_options"]?["include_usage"]?.GetValue<bool>());
    }

    [Fact]
    public async Task ParallelToolCalls_Streamed_WithSplitArguments_AreReassembled_AndTheirResultsGoBackWithTheirIds()
    {
        _server.Enqueue(
            ScriptedTurn.Calls(
                ScriptedToolCall.Of("read_file", new { path = "src/App.cs", offset = 120 }, "call_read"),
                ScriptedToolCall.Of("run", new { command = "dotnet test --filter \"Name~Foo\"", timeout_s = 30 }, "call_run")),
            ScriptedTurn.Reply("Both done."));
        var client = _catalog.Resolve().Client;
        var options = new ChatOptions
        {
            Tools =
            [
                AIFunctionFactory.Create((string path, int offset) => "", "read_file", "Reads a file."),
                AIFunctionFactory.Create((string command, int timeout_s) => "", "run", "Runs a command."),
            ],
        };
        List<ChatMessage> history = [new(ChatRole.User, "Read App.cs and run the tests.")];

        var first = (await Collect(client.GetStreamingResponseAsync(history, options, Ct))).ToChatResponse();

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var calls = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(["call_read:read_file", "call_run:run"], calls.Select(c => $"{c.CallId}:{c.Name}"));
        Assert.Equal(("src/App.cs", 120), (Arg(calls[0], "path").GetString(), Arg(calls[0], "offset").GetInt32()));
        Assert.Equal(("dotnet test --filter \"Name~Foo\"", 30), (Arg(calls[1], "command").GetString(), Arg(calls[1], "timeout_s").GetInt32()));
        Assert.Equal(["read_file", "run"], _server.Requests[0].ToolNames);

        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_read", "class App {}"), new FunctionResultContent("call_run", "exit 0")]));
        var second = await client.GetResponseAsync(history, options, Ct);

        Assert.Equal("Both done.", second.Text);
        var sent = _server.Requests[1].Messages;
        var assistant = sent.Single(m => (string?)m?["role"] == "assistant");
        var sentCalls = assistant!["tool_calls"]!.AsArray();
        Assert.Equal(["call_read", "call_run"], sentCalls.Select(c => (string?)c?["id"]));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"command":"dotnet test --filter \"Name~Foo\"","timeout_s":30}"""),
            JsonNode.Parse((string)sentCalls[1]!["function"]!["arguments"]!)));
        var results = sent.Where(m => (string?)m?["role"] == "tool").Select(m => $"{m?["tool_call_id"]}={Text(m)}");
        Assert.Equal(["call_read=class App {}", "call_run=exit 0"], results);
    }

    [Fact]
    public async Task ToolCalls_NotStreamed_CarryIdsAndArguments()
    {
        _server.Enqueue(ScriptedTurn.Calls(ScriptedToolCall.Of("write_file", new { path = "a.txt", content = "x\ny" })));

        var response = await _catalog.Resolve().Client.GetResponseAsync([new ChatMessage(ChatRole.User, "write")], cancellationToken: Ct);

        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.StartsWith("call_", call.CallId, StringComparison.Ordinal);
        Assert.Equal(("write_file", "x\ny"), (call.Name, Arg(call, "content").GetString()));
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task ModelList_IsServed_InTheOpenAIFormat()
    {
        _server.ModelIds = ["qwen-coder", "llama-3.1-8b"];
        using var http = new HttpClient();

        var list = JsonNode.Parse(await http.GetStringAsync(new Uri(_server.BaseUrl + "/models"), Ct));

        Assert.Equal("list", (string?)list?["object"]);
        Assert.Equal(["qwen-coder", "llama-3.1-8b"], list!["data"]!.AsArray().Select(m => (string?)m?["id"]));
    }

    [Fact]
    public void Metadata_NamesTheEndpointAndModel()
    {
        var metadata = _catalog.Resolve().Client.GetService<ChatClientMetadata>();

        Assert.Equal("scripted-model", metadata?.DefaultModelId);
        Assert.Equal(_server.BaseUrl.Authority, metadata?.ProviderUri?.Authority);
        Assert.Same(_catalog.Resolve().Client, _catalog.Resolve("openai:scripted-model").Client);
    }

    private static JsonElement Arg(FunctionCallContent call, string name) =>
        Assert.IsType<JsonElement>(call.Arguments?[name]);

    // Content is a string, or an array of text parts.
    private static string? Text(JsonNode? message) => message?["content"] switch
    {
        JsonValue value => (string?)value,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"])),
        _ => null,
    };

    private static async Task<List<ChatResponseUpdate>> Collect(IAsyncEnumerable<ChatResponseUpdate> stream)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return updates;
    }
}
