namespace Runable.Web.Components.Trajectory;

/// <summary>An error the run logged.</summary>
public sealed record ErrorItem(long Seq, DateTimeOffset At, string Message) : TrajectoryItem(Seq, At);
