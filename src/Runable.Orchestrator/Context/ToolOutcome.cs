using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>
/// One tool call of an exchange and what it returned, with the job events that hold them: <paramref name="CallSeq"/>
/// (the <c>tool_call</c> event) and <paramref name="ResultSeq"/> (the <c>tool_result</c> event, the number
/// <c>read_event</c> takes), null when the run stopped before the call completed.
/// </summary>
public sealed record ToolOutcome(string CallId, string Name, long? CallSeq, long? ResultSeq, string Text, bool IsError, IReadOnlyList<DataContent> Images)
{
    /// <summary>Images the result had that are no longer at hand (a replayed log keeps only their count).</summary>
    public int MissingImages { get; init; }
}
