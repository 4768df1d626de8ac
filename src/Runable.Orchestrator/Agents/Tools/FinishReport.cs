namespace Runable.Orchestrator.Agents.Tools;

/// <summary>What the agent said when it called <c>finish</c>.</summary>
/// <param name="Summary">The agent's summary of what it did.</param>
/// <param name="Success">False when the agent reports that it could not complete the task.</param>
public sealed record FinishReport(string Summary, bool Success);
