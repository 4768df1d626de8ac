using System.Text.Json.Serialization;

namespace Runable.Box.Protocol.Processes;

/// <summary>Whether a supervised process still runs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProcessStatus>))]
public enum ProcessStatus
{
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("exited")] Exited,
}
