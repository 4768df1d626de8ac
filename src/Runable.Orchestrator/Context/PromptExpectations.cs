namespace Runable.Orchestrator.Context;

/// <summary>
/// What a prompt must hold, as the context manager knows it: the system prompt, the task and every user message
/// verbatim and in order, the results of the last exchanges in full, and a size within budget.
/// </summary>
/// <param name="SystemPrompt">The system message's text.</param>
/// <param name="Task">The first user message's text.</param>
/// <param name="UserMessages">The user's later messages, in order.</param>
/// <param name="FullExchanges">For each exchange that must be shown in full: its results' texts by call id.</param>
/// <param name="Tokens">The prompt's size as counted.</param>
/// <param name="Budget">The most it may be.</param>
public sealed record PromptExpectations(string SystemPrompt, string Task, IReadOnlyList<string> UserMessages,
    IReadOnlyList<IReadOnlyDictionary<string, string>> FullExchanges, long Tokens, long Budget);
