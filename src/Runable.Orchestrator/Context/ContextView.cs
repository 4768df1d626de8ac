using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>
/// A prompt as the context manager assembled it for one model call, checked, with its size: <see cref="Tokens"/> of
/// messages against <see cref="Budget"/> (the window less the answer's reserve and the tool definitions, in counted
/// tokens after calibration).
/// </summary>
public sealed record ContextView(IReadOnlyList<ChatMessage> Messages, long Tokens, long Budget, long ToolTokens, double Calibration)
{
    /// <summary>The whole request as counted: messages and tool definitions (what the provider's reported input is compared with).</summary>
    public long RequestTokens => Tokens + ToolTokens;
}
