namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// One event of a job's history that matched a recall query: its sequence number in the job's event log (what
/// <c>read_event</c> takes as <c>id</c>), its type (<c>assistant</c>, <c>tool_call</c>, <c>tool_result</c>, <c>message</c>),
/// the tool's name for tool events, the best-matching part of its text on one line, its length, and its score (higher
/// is better: the weight of the query's words it holds, counted again for those standing together, or the fused rank
/// when embeddings take part).
/// </summary>
public sealed record RecallHit(long Seq, string Type, string? Name, string Snippet, int Length, double Score);
