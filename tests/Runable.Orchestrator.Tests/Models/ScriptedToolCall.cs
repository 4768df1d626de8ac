using System.Text.Json;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>One tool call the scripted model makes: the tool's name, its JSON arguments, and the call id (made up when not given).</summary>
public sealed record ScriptedToolCall(string Name, string ArgumentsJson, string? Id = null)
{
    /// <summary>A call whose arguments are <paramref name="arguments"/> serialized as JSON.</summary>
    public static ScriptedToolCall Of(string name, object arguments, string? id = null) =>
        new(name, JsonSerializer.Serialize(arguments), id);
}
