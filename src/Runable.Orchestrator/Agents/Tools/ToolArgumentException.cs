namespace Runable.Orchestrator.Agents.Tools;

/// <summary>A tool call's arguments are missing or malformed; the message tells the model what to send instead.</summary>
internal sealed class ToolArgumentException(string message) : Exception(message);
