namespace Runable.Web.Components.Trajectory;

/// <summary>A change of the job's status, with the reason it ended when it did.</summary>
public sealed record StatusItem(long Seq, DateTimeOffset At, string Status, string? Reason, string? Message) : TrajectoryItem(Seq, At);
