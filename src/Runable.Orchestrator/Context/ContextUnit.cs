using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Context;

/// <summary>
/// One atomic unit of a job's context: its messages as they happened, their tokens (counted once, when the unit was
/// added), and how the prompt shows it now. A tool exchange's messages are the assistant message (reasoning, text and
/// every call), one tool message with every result in call order, and a user message with the results' images if any.
/// </summary>
public sealed class ContextUnit
{
    internal ContextUnit(int index, ContextUnitKind kind, long seq, IReadOnlyList<ChatMessage> messages, int tokens, IReadOnlyList<ToolOutcome> outcomes)
    {
        Index = index;
        Kind = kind;
        Seq = seq;
        Messages = messages;
        Tokens = tokens;
        Outcomes = outcomes;
    }

    /// <summary>The unit's position in the context (0 is the system prompt, 1 the task).</summary>
    public int Index { get; }

    public ContextUnitKind Kind { get; }

    /// <summary>The job event that opened the unit (the <c>assistant</c> or <c>message</c> event); 0 for the system prompt and the task.</summary>
    public long Seq { get; }

    /// <summary>The unit's messages in full.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>The tokens of <see cref="Messages"/>.</summary>
    public int Tokens { get; }

    /// <summary>A tool exchange's calls and results, in call order; empty for other units.</summary>
    public IReadOnlyList<ToolOutcome> Outcomes { get; }

    /// <summary>How the prompt shows the unit now.</summary>
    public ContextUnitView View { get; internal set; }

    /// <summary>The masked form (built when first needed) and its tokens.</summary>
    internal IReadOnlyList<ChatMessage>? MaskedMessages { get; set; }

    internal int MaskedTokens { get; set; }

    /// <summary>The full form without its reasoning, for when it follows another assistant message (at most as many tokens).</summary>
    internal IReadOnlyList<ChatMessage>? WithoutReasoning { get; set; }

    /// <summary>True for the system prompt, the task and the user's messages, which are always shown verbatim.</summary>
    public bool IsPinned => Kind is ContextUnitKind.System or ContextUnitKind.Task or ContextUnitKind.User;

    /// <summary>The tokens the unit takes in the prompt as it is shown now.</summary>
    public int ShownTokens => View switch
    {
        ContextUnitView.Full => Tokens,
        ContextUnitView.Masked => MaskedTokens,
        _ => 0,
    };

    /// <summary>The messages the prompt shows for the unit now (none when summarized or dropped).</summary>
    public IReadOnlyList<ChatMessage> ShownMessages => View switch
    {
        ContextUnitView.Full => Messages,
        ContextUnitView.Masked => MaskedMessages!,
        _ => [],
    };

    /// <summary>The last job event the unit holds (its last result), for the ranges summaries name.</summary>
    public long LastSeq => Outcomes.Count == 0 ? Seq : Math.Max(Seq, Outcomes.Max(o => o.ResultSeq ?? o.CallSeq ?? 0));
}
