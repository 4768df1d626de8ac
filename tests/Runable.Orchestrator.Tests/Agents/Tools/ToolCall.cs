using Microsoft.Extensions.AI;
using Runable.Orchestrator.Agents.Tools;

namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>What one call through an <see cref="AIFunction"/> gave the model, and the tool set's record of it.</summary>
/// <param name="Text">The text the model reads.</param>
/// <param name="Images">The images it sees.</param>
/// <param name="Result">The <see cref="ToolResult"/> the tool set reported for the call.</param>
public sealed record ToolCall(string Text, IReadOnlyList<DataContent> Images, ToolResult Result);
