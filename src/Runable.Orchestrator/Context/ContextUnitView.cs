namespace Runable.Orchestrator.Context;

/// <summary>How a unit appears in the prompt.</summary>
public enum ContextUnitView
{
    /// <summary>As it happened (tool outputs as capped when they joined the context).</summary>
    Full,

    /// <summary>One line per output naming its event, e.g. <c>[tool output #123: exit 1, 812 lines — recall it with read_event]</c>.</summary>
    Masked,

    /// <summary>Not shown: the summary of earlier work stands for it.</summary>
    Summarized,

    /// <summary>Not shown and not summarized (an emergency, when no summary could be had): a note names its events.</summary>
    Dropped,
}
