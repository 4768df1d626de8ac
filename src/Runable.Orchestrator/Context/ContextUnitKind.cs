namespace Runable.Orchestrator.Context;

/// <summary>What a unit of the context is; pruning acts on whole units only.</summary>
public enum ContextUnitKind
{
    /// <summary>The system prompt: always shown, verbatim.</summary>
    System,

    /// <summary>The job's task, the first user message: always shown, verbatim.</summary>
    Task,

    /// <summary>A message the user sent while the job ran: always shown, verbatim.</summary>
    User,

    /// <summary>An assistant message without tool calls.</summary>
    Assistant,

    /// <summary>An assistant message with its reasoning and all its parallel tool calls, and all their results (and images).</summary>
    ToolExchange,
}
