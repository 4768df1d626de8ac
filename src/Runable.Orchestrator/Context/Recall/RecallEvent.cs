namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// The searchable text of one event of a job's log, as <c>read_event</c> shows it: an assistant message's text, a tool
/// call's arguments (<c>name: value</c> lines), a tool result's output, or a user's message. Other events (status, usage,
/// context decisions) have their JSON data as text.
/// </summary>
public sealed record RecallEvent(long Seq, string Type, string? Name, string Text);
