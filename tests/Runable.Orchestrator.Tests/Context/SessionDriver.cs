using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// Plays a generated session into a context manager the way the agent runner does — or only into an event log, for a
/// manager to replay — keeping the log (with the manager's <c>context</c> decisions) and what the test knows of the history.
/// </summary>
public sealed class SessionDriver
{
    public const string StoppedResult = "Error: the run stopped before this call completed; check its effect before repeating it.";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly List<JobEvent> _events = [];
    private readonly Random _random;

    public SessionDriver(Random random)
    {
        _random = random;
        Append("status", new { status = "running" });
        Append("workspace", new { baseline = "abc123" });
    }

    public IReadOnlyList<JobEvent> Events => _events;

    public List<string> UserMessages { get; } = [];

    public List<ExchangeFact> Exchanges { get; } = [];

    /// <summary>Appends the manager's decisions to the log, as the runner does.</summary>
    public Task LogAsync(ContextDecision decision, CancellationToken cancellationToken)
    {
        Append("context", decision);
        return Task.CompletedTask;
    }

    public JobEvent Append(string type, object data)
    {
        var e = new JobEvent(_events.Count + 1, type, JsonSerializer.SerializeToElement(data, s_json), DateTimeOffset.UnixEpoch);
        _events.Add(e);
        return e;
    }

    /// <summary>
    /// Logs one step; with a <paramref name="live"/> manager also adds it there as the runner would (crashes are then
    /// played as finished calls, since a live run that crashes is a replayed one). Images and reasoning reach only a live
    /// manager (the log keeps neither).
    /// </summary>
    public void Play(GeneratedStep step, ContextManager? live, bool extras)
    {
        switch (step)
        {
            case GeneratedStep.User user:
                var message = Append("message", new { text = user.Text });
                UserMessages.Add(user.Text);
                live?.AddUserMessage(message.Seq, user.Text);
                break;
            case GeneratedStep.Assistant assistant:
                var said = Append("assistant", new { step = 0, text = assistant.Text, tool_calls = Array.Empty<object>() });
                live?.AddAssistant(said.Seq, [new TextContent(assistant.Text)]);
                break;
            case GeneratedStep.Exchange exchange:
                PlayExchange(exchange, live, extras);
                break;
        }
    }

    private void PlayExchange(GeneratedStep.Exchange exchange, ContextManager? live, bool extras)
    {
        var crash = exchange.Crash && live is null;
        var opened = Append("assistant", new
        {
            step = 0,
            text = exchange.Text ?? "",
            tool_calls = exchange.Calls.Select(c => new { id = c.Id, name = c.Name, arguments = c.Arguments }),
        });
        var callSeqs = exchange.Calls.ToDictionary(c => c.Id, c => Append("tool_call", new { id = c.Id, name = c.Name, arguments = c.Arguments }).Seq);
        var resultSeqs = new Dictionary<string, long?>();
        var outputs = new Dictionary<string, string>();
        var order = exchange.Calls.OrderBy(_ => _random.Next()).ToList();
        string? interleaved = null;
        foreach (var call in order)
        {
            if (crash && !call.Finished)
            {
                resultSeqs[call.Id] = null;
                outputs[call.Id] = StoppedResult;
                continue;
            }

            if (exchange.InterleavedUser is { } note && interleaved is null)
            {
                // A user's message logged while the calls run: the runner reads it after the exchange.
                interleaved = note;
                Append("message", new { text = note });
            }

            var images = extras ? call.Images.Count : 0;
            resultSeqs[call.Id] = Append("tool_result", new { id = call.Id, name = call.Name, text = call.Output, is_error = call.IsError, images }).Seq;
            outputs[call.Id] = call.Output;
        }

        Exchanges.Add(new ExchangeFact([.. exchange.Calls.Select(c => c.Id)], outputs, resultSeqs));
        if (crash)
        {
            Append("resumed", new { from_event = _events[^1].Seq });
        }

        if (live is not null)
        {
            var contents = new List<AIContent>();
            if (extras && exchange.Reasoning is { } reasoning)
            {
                contents.Add(new TextReasoningContent(reasoning));
            }

            if (exchange.Text is { Length: > 0 } text)
            {
                contents.Add(new TextContent(text));
            }

            contents.AddRange(exchange.Calls.Select(c => new FunctionCallContent(c.Id, c.Name, c.Arguments.ToDictionary(a => a.Key, a => (object?)a.Value))));
            live.AddExchange(opened.Seq, contents, [.. exchange.Calls.Select(c => new ToolOutcome(c.Id, c.Name, callSeqs[c.Id], resultSeqs[c.Id], c.Output, c.IsError,
                extras ? c.Images : []))]);
        }

        if (interleaved is not null)
        {
            UserMessages.Add(interleaved);
            live?.AddUserMessage(_events.Last(e => e.Type == "message").Seq, interleaved);
        }
    }
}
