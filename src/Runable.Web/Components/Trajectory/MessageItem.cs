namespace Runable.Web.Components.Trajectory;

/// <summary>A message a person sent the running agent.</summary>
public sealed record MessageItem(long Seq, DateTimeOffset At, string Text) : TrajectoryItem(Seq, At);
