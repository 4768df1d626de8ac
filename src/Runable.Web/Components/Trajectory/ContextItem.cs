using System.Text.Json;

namespace Runable.Web.Components.Trajectory;

/// <summary>A decision of the context manager (what was masked or summarized, and why), with all it logged.</summary>
public sealed record ContextItem(long Seq, DateTimeOffset At, string Action, JsonElement Data) : TrajectoryItem(Seq, At);
