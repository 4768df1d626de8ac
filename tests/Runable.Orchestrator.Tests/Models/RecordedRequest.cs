using System.Text.Json.Nodes;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>A request the scripted server received: its path, its headers (names in lower case) and its JSON body.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonObject? Body)
{
    /// <summary>The <c>Authorization</c> header (OpenAI's <c>Bearer</c> key).</summary>
    public string? Authorization => Headers.GetValueOrDefault("authorization");

    /// <summary>The <c>x-api-key</c> header (Anthropic's key).</summary>
    public string? ApiKeyHeader => Headers.GetValueOrDefault("x-api-key");

    /// <summary>Whether the client asked for a streamed reply.</summary>
    public bool Stream => Body?["stream"]?.GetValue<bool>() == true;

    /// <summary>The request's <c>messages</c> array (empty when absent).</summary>
    public JsonArray Messages => Body?["messages"] as JsonArray ?? [];

    /// <summary>The names of the tools the request offered.</summary>
    public IReadOnlyList<string> ToolNames =>
        (Body?["tools"] as JsonArray ?? []).Select(t => (string?)(t?["function"]?["name"] ?? t?["name"]) ?? "").ToList();
}
