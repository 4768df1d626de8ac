namespace Runable.Orchestrator.Context;

/// <summary>
/// What a summarizer is asked: fold <paramref name="Transcript"/> (events #<paramref name="FromSeq"/> to
/// #<paramref name="ThroughSeq"/>, tool outputs cut to size) into <paramref name="PreviousSummary"/> (null for the
/// first), in at most <paramref name="MaxTokens"/> tokens.
/// </summary>
public sealed record ContextSummaryRequest(string? PreviousSummary, string Transcript, long FromSeq, long ThroughSeq, int MaxTokens);
