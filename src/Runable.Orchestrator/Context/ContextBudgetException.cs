namespace Runable.Orchestrator.Context;

/// <summary>
/// The prompt cannot be brought within budget without breaking an invariant (what must be shown verbatim is larger
/// than the budget), or the provider kept refusing it as too long. The job stops; the message says what to change.
/// </summary>
public sealed class ContextBudgetException(string message) : Exception(message);
