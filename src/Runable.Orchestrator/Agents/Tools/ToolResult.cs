using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// What one tool call produced, for the model and for the job's event log. <see cref="IsError"/> is true exactly
/// when <see cref="Text"/> starts with <c>Error:</c> (bad arguments, a box failure, a timeout); a command that
/// exits non-zero or code that raises is an ordinary result.
/// </summary>
public sealed record ToolResult
{
    /// <summary>The tool's name (<c>bash</c>, <c>str_replace_based_edit_tool</c>, <c>code</c>, <c>computer</c>, <c>finish</c>).</summary>
    public string Tool { get; init; } = "";

    /// <summary>The observation the model reads, already capped to the configured size.</summary>
    public required string Text { get; init; }

    /// <summary>Images shown to the model with the text (screenshots, figures), as PNG <see cref="DataContent"/>.</summary>
    public IReadOnlyList<DataContent> Images { get; init; } = [];

    /// <summary>True when the call failed; the text then starts with <c>Error:</c> and says what to fix.</summary>
    public bool IsError { get; init; }

    /// <summary>How long the call took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>True when the output was longer than the cap and only its head and tail were kept.</summary>
    public bool Truncated { get; init; }

    /// <summary>Where inside the sandbox the whole output was saved, when it was cut.</summary>
    public string? FullOutputPath { get; init; }

    /// <summary>The result as message content: the text, then the images.</summary>
    public IList<AIContent> ToContents()
    {
        var contents = new List<AIContent>(1 + Images.Count) { new TextContent(Text) };
        contents.AddRange(Images);
        return contents;
    }

    /// <summary>What the tool's <see cref="AIFunction"/> returns: the text alone, or the content list when there are images.</summary>
    public object ToFunctionResult() => Images.Count == 0 ? Text : ToContents();

    internal static ToolResult Error(string message) => new() { Text = "Error: " + message, IsError = true };
}
