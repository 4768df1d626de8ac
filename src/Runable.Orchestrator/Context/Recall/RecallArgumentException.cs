namespace Runable.Orchestrator.Context.Recall;

/// <summary>An argument of a recall tool call the model can correct; its message says how.</summary>
internal sealed class RecallArgumentException(string message) : Exception(message);
