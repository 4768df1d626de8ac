namespace Runable.Orchestrator.Agents.Tools;

/// <summary>An observation after capping.</summary>
/// <param name="Text">What the model reads.</param>
/// <param name="Truncated">True when the middle was left out.</param>
/// <param name="SavedPath">Where the whole text was saved inside the sandbox, when it was cut and saved.</param>
internal sealed record LimitedText(string Text, bool Truncated, string? SavedPath);
