using System.Text.Json;

namespace Runable.Web.Components.Trajectory;

/// <summary>Any other event (<c>workspace</c>, <c>resumed</c> ...), shown by its type and fields.</summary>
public sealed record OtherItem(long Seq, DateTimeOffset At, string Type, JsonElement Data) : TrajectoryItem(Seq, At);
