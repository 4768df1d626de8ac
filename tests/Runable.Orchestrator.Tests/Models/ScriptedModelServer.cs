using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// A real HTTP model server on 127.0.0.1 that plays a script of assistant turns. It speaks the OpenAI Chat Completions
/// wire format (<c>POST /v1/chat/completions</c>, JSON or SSE, <c>GET /v1/models</c>) and Anthropic's Messages format
/// (<c>POST /v1/messages</c>, JSON or SSE events). Each request takes the next failure or turn from the queue, and every
/// request is recorded. A request that finds the script empty gets a 400 saying so, which no client retries.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private const long Created = 1_700_000_000;
    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly Queue<(ScriptedTurn Turn, Queue<ScriptedFailure> Failures)> _script = new();
    private readonly List<RecordedRequest> _requests = [];
    private int _ids;

    private ScriptedModelServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The server's root, <c>http://127.0.0.1:port/</c> (Anthropic's base URL).</summary>
    public Uri Root { get; private set; } = null!;

    /// <summary>The OpenAI-compatible base URL, <c>http://127.0.0.1:port/v1</c> (what <c>OPENAI_BASE_URL</c> would be).</summary>
    public Uri BaseUrl => new(Root, "v1");

    /// <summary>The ids <c>GET /v1/models</c> lists.</summary>
    public IReadOnlyList<string> ModelIds { get; set; } = ["scripted-model"];

    /// <summary>Every request received so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>
    /// Answers the requests that find the script empty, from what they hold (for jobs running at once, whose requests
    /// come in no set order); null means none, and such requests get the empty-script answer.
    /// </summary>
    public Func<RecordedRequest, ScriptedTurn?>? Responder { get; set; }

    /// <summary>Turns not yet played (a turn whose failures are being answered counts).</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _script.Count;
            }
        }
    }

    /// <summary>Starts a server on a free loopback port.</summary>
    public static async Task<ScriptedModelServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedModelServer(app);
        app.MapPost("/v1/chat/completions", server.ChatCompletionsAsync);
        app.MapPost("/v1/messages", server.MessagesAsync);
        app.MapGet("/v1/models", server.ModelsAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.Root = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Adds turns to the end of the script.</summary>
    public ScriptedModelServer Enqueue(params ScriptedTurn[] turns)
    {
        lock (_lock)
        {
            foreach (var turn in turns)
            {
                _script.Enqueue((turn, new Queue<ScriptedFailure>(turn.Failures)));
            }
        }

        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ChatCompletionsAsync(HttpContext context)
    {
        var (body, step) = await TakeAsync(context);
        if (await AnsweredAsFailureAsync(context, step, "openai", IsStreamed(body)))
        {
            return;
        }

        var turn = step.Turn!;
        var model = (string?)body?["model"] ?? "scripted-model";
        var calls = turn.ToolCalls.Select(c => c with { Id = c.Id ?? $"call_{Interlocked.Increment(ref _ids)}" }).ToList();
        var usage = OpenAIUsage(turn, context, calls);
        var finish = calls.Count > 0 ? "tool_calls" : "stop";
        var id = $"chatcmpl-{Interlocked.Increment(ref _ids)}";

        if (!IsStreamed(body))
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = turn.Text };
            if (calls.Count > 0)
            {
                message["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
                })]);
            }

            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = Created, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0, ["message"] = message, ["finish_reason"] = finish, ["logprobs"] = null,
                }),
                ["usage"] = usage,
            });
            return;
        }

        StartEventStream(context);
        JsonObject Chunk(JsonObject delta, string? finishReason = null) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = Created, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };

        var chunks = new List<JsonObject> { Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }) };
        chunks.AddRange(Pieces(turn.Text ?? "").Select(piece => Chunk(new JsonObject { ["content"] = piece })));
        for (var index = 0; index < calls.Count; index++)
        {
            var call = calls[index];
            chunks.Add(Chunk(new JsonObject
            {
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["index"] = index, ["id"] = call.Id, ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
                }),
            }));
            chunks.AddRange(Split(call.ArgumentsJson, 3).Select(part => Chunk(new JsonObject
            {
                ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = part } }),
            })));
        }

        chunks.Add(Chunk([], finish));
        if (body?["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            chunks.Add(new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = Created, ["model"] = model,
                ["choices"] = new JsonArray(), ["usage"] = usage,
            });
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            await WriteEventAsync(context, null, chunks[i]);
            if (step.CutAfterFirstChunk && i == 1)
            {
                await CutAsync(context);
                return;
            }
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private async Task MessagesAsync(HttpContext context)
    {
        var (body, step) = await TakeAsync(context);
        if (await AnsweredAsFailureAsync(context, step, "anthropic", IsStreamed(body)))
        {
            return;
        }

        var turn = step.Turn!;
        var model = (string?)body?["model"] ?? "scripted-model";
        var calls = turn.ToolCalls.Select(c => c with { Id = c.Id ?? $"toolu_{Interlocked.Increment(ref _ids)}" }).ToList();
        var (input, output) = Tokens(turn, context, calls);
        var stop = calls.Count > 0 ? "tool_use" : "end_turn";
        var id = $"msg_{Interlocked.Increment(ref _ids)}";
        JsonObject Usage(int outputTokens) => new()
        {
            ["input_tokens"] = input - turn.CachedInputTokens,
            ["output_tokens"] = outputTokens,
            ["cache_read_input_tokens"] = turn.CachedInputTokens,
            ["cache_creation_input_tokens"] = 0,
        };

        if (!IsStreamed(body))
        {
            var content = new JsonArray();
            if (!string.IsNullOrEmpty(turn.Text))
            {
                content.Add(new JsonObject { ["type"] = "text", ["text"] = turn.Text });
            }

            foreach (var call in calls)
            {
                content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = JsonNode.Parse(call.ArgumentsJson) });
            }

            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = content,
                ["stop_reason"] = stop, ["stop_sequence"] = null, ["usage"] = Usage(output),
            });
            return;
        }

        StartEventStream(context);
        var events = new List<JsonObject>
        {
            new()
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                    ["stop_reason"] = null, ["stop_sequence"] = null, ["usage"] = Usage(1),
                },
            },
        };
        var block = 0;
        if (!string.IsNullOrEmpty(turn.Text))
        {
            events.Add(new() { ["type"] = "content_block_start", ["index"] = block, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            events.AddRange(Pieces(turn.Text).Select(piece => new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = block, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = piece },
            }));
            events.Add(new() { ["type"] = "content_block_stop", ["index"] = block++ });
        }

        foreach (var call in calls)
        {
            events.Add(new()
            {
                ["type"] = "content_block_start", ["index"] = block,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = new JsonObject() },
            });
            events.AddRange(Split(call.ArgumentsJson, 3).Select(part => new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = block,
                ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = part },
            }));
            events.Add(new() { ["type"] = "content_block_stop", ["index"] = block++ });
        }

        events.Add(new()
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stop, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = output },
        });
        events.Add(new() { ["type"] = "message_stop" });

        for (var i = 0; i < events.Count; i++)
        {
            await WriteEventAsync(context, (string?)events[i]["type"], events[i]);
            if (step.CutAfterFirstChunk && i == 1)
            {
                await CutAsync(context);
                return;
            }
        }
    }

    private Task ModelsAsync(HttpContext context) => WriteJsonAsync(context, 200, new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. ModelIds.Select(id => (JsonNode)new JsonObject
        {
            ["id"] = id, ["object"] = "model", ["created"] = Created, ["owned_by"] = "scripted",
        })]),
    });

    private async Task<(JsonObject? Body, Step Step)> TakeAsync(HttpContext context)
    {
        var request = context.Request;
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        lock (_lock)
        {
            var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var recorded = new RecordedRequest(request.Method, request.Path, headers, body);
            _requests.Add(recorded);
            if (!_script.TryPeek(out var next))
            {
                return (body, new Step(Responder?.Invoke(recorded), null, false));
            }

            if (next.Failures.TryDequeue(out var failure) && !failure.DropAfterFirstChunk)
            {
                return (body, new Step(null, failure, false));
            }

            _script.Dequeue();
            return (body, new Step(next.Turn, null, failure?.DropAfterFirstChunk == true));
        }
    }

    private static async Task<bool> AnsweredAsFailureAsync(HttpContext context, Step step, string dialect, bool streamed)
    {
        if (step.Turn is not null && !(step.CutAfterFirstChunk && !streamed))
        {
            return false;
        }

        if (step.Failure is null && step.Turn is null)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "ScriptedModelServer: the script has no turn left", dialect);
        }
        else if (step.Failure is null || step.Failure.DropConnection)
        {
            // A cut stream asked of a request that is not streamed can only be a dropped connection.
            if (step.Failure?.Stall is { } stall)
            {
                try
                {
                    await Task.Delay(stall, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client gave up first, as a timeout test wants.
                }
            }

            context.Abort();
        }
        else if (step.Failure.StreamErrorType is { } streamError && streamed && dialect == "anthropic")
        {
            StartEventStream(context);
            await WriteEventAsync(context, "error", new JsonObject
            {
                ["type"] = "error", ["error"] = new JsonObject { ["type"] = streamError, ["message"] = "scripted stream error" },
            });
        }
        else
        {
            if (step.Failure.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var type = step.Failure.Status switch
            {
                401 => "authentication_error",
                429 => "rate_limit_error",
                >= 500 => "api_error",
                _ => "invalid_request_error",
            };
            await WriteErrorAsync(context, step.Failure.Status, type, $"scripted failure {step.Failure.Status}", dialect);
        }

        return true;
    }

    // An abort drops what Kestrel has not yet written to the socket: give the flushed chunks time to leave first.
    private static async Task CutAsync(HttpContext context)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), context.RequestAborted);
        context.Abort();
    }

    private static bool IsStreamed(JsonObject? body) => body?["stream"]?.GetValue<bool>() == true;

    private static Task WriteErrorAsync(HttpContext context, int status, string type, string message, string dialect)
    {
        var error = dialect == "anthropic"
            ? new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = null } };
        return WriteJsonAsync(context, status, error);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static void StartEventStream(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
    }

    private static async Task WriteEventAsync(HttpContext context, string? name, JsonObject data)
    {
        var text = new StringBuilder();
        if (name is not null)
        {
            text.Append("event: ").Append(name).Append('\n');
        }

        text.Append("data: ").Append(data.ToJsonString()).Append("\n\n");
        await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static JsonObject OpenAIUsage(ScriptedTurn turn, HttpContext context, IReadOnlyList<ScriptedToolCall> calls)
    {
        var (input, output) = Tokens(turn, context, calls);
        return new JsonObject
        {
            ["prompt_tokens"] = input,
            ["completion_tokens"] = output,
            ["total_tokens"] = input + output,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = turn.CachedInputTokens },
        };
    }

    private static (int Input, int Output) Tokens(ScriptedTurn turn, HttpContext context, IReadOnlyList<ScriptedToolCall> calls)
    {
        var requestSize = (int)(context.Request.ContentLength ?? 400);
        var replySize = (turn.Text?.Length ?? 0) + calls.Sum(c => c.Name.Length + c.ArgumentsJson.Length);
        return (turn.InputTokens ?? Math.Max(1, requestSize / 4), turn.OutputTokens ?? Math.Max(1, replySize / 4));
    }

    // Words with their leading spaces, as a model streams them.
    private static IEnumerable<string> Pieces(string text)
    {
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                yield return text[start..i];
                start = i;
            }
        }
    }

    private static IEnumerable<string> Split(string text, int parts)
    {
        var size = Math.Max(1, (int)Math.Ceiling(text.Length / (double)parts));
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }

    private sealed record Step(ScriptedTurn? Turn, ScriptedFailure? Failure, bool CutAfterFirstChunk);
}
