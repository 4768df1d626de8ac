namespace Runable.Orchestrator.Context;

/// <summary>A prompt failed the check made before every model call; it is not sent. The message names the broken invariant.</summary>
public sealed class ContextInvariantException(string message) : Exception(message);
