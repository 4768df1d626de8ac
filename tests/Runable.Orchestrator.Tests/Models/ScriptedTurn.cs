namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// One assistant turn the scripted server plays: text, tool calls, or both; the failures answered before it; and the
/// token usage it reports (derived from the sizes of request and reply when not given).
/// </summary>
public sealed record ScriptedTurn
{
    /// <summary>The assistant's text, if any.</summary>
    public string? Text { get; init; }

    /// <summary>The tool calls, played as parallel calls of one turn.</summary>
    public IReadOnlyList<ScriptedToolCall> ToolCalls { get; init; } = [];

    /// <summary>Failures answered, one per request, before the turn itself is played.</summary>
    public IReadOnlyList<ScriptedFailure> Failures { get; init; } = [];

    /// <summary>Prompt tokens reported; derived from the request's size when null.</summary>
    public int? InputTokens { get; init; }

    /// <summary>Completion tokens reported; derived from the reply's size when null.</summary>
    public int? OutputTokens { get; init; }

    /// <summary>Prompt tokens reported as read from the cache.</summary>
    public int CachedInputTokens { get; init; }

    /// <summary>A turn of plain text.</summary>
    public static ScriptedTurn Reply(string text) => new() { Text = text };

    /// <summary>A turn of parallel tool calls.</summary>
    public static ScriptedTurn Calls(params ScriptedToolCall[] calls) => new() { ToolCalls = calls };

    /// <summary>This turn, preceded by <paramref name="failure"/> <paramref name="times"/> times (after any failures already added).</summary>
    public ScriptedTurn After(ScriptedFailure failure, int times = 1) =>
        this with { Failures = [.. Failures, .. Enumerable.Repeat(failure, times)] };

    /// <summary>This turn, reporting the given usage.</summary>
    public ScriptedTurn WithUsage(int input, int output, int cachedInput = 0) =>
        this with { InputTokens = input, OutputTokens = output, CachedInputTokens = cachedInput };
}
