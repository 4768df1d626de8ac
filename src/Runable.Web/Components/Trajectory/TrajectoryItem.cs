namespace Runable.Web.Components.Trajectory;

/// <summary>One entry of a trajectory as shown: a step, a message, a status change, a context decision, an error...</summary>
/// <param name="Seq">The sequence number of the event that made it.</param>
/// <param name="At">When that event was logged.</param>
public abstract record TrajectoryItem(long Seq, DateTimeOffset At);
