namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// What the test knows of a job's history, to check a prompt against: the system prompt and task (null when unknown),
/// the user's messages, every exchange, how many recent exchanges must be shown in full, and the budget.
/// </summary>
public sealed record PromptFacts(string? SystemPrompt, string? Task, IReadOnlyList<string> UserMessages, IReadOnlyList<ExchangeFact> Exchanges, int Keep, long Budget);

/// <summary>One exchange of a history: each call's id, its full output as logged, and the event that logged it (null if none).</summary>
public sealed record ExchangeFact(IReadOnlyList<string> CallIds, IReadOnlyDictionary<string, string> Outputs, IReadOnlyDictionary<string, long?> ResultSeqs);
