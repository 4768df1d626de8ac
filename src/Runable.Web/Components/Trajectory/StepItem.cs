namespace Runable.Web.Components.Trajectory;

/// <summary>One step of the agent: what it said (Markdown) and the tool calls it made, each with its result once logged.</summary>
public sealed record StepItem(long Seq, DateTimeOffset At, int? Step, string? Text) : TrajectoryItem(Seq, At)
{
    public List<ToolCallItem> Calls { get; } = [];
}
