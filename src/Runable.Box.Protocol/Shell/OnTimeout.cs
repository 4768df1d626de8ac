using System.Text.Json.Serialization;

namespace Runable.Box.Protocol.Shell;

/// <summary>What happens to a command that is still running when its timeout passes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OnTimeout>))]
public enum OnTimeout
{
    /// <summary>The command keeps running as a background process whose handle is returned.</summary>
    [JsonStringEnumMemberName("background")] Background,
    /// <summary>The command's whole process group is killed.</summary>
    [JsonStringEnumMemberName("kill")] Kill,
}
