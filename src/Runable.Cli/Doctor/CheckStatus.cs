using System.Text.Json.Serialization;

namespace Runable.Cli.Doctor;

/// <summary>What a host check found.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
public enum CheckStatus
{
    [JsonStringEnumMemberName("found")] Found,
    [JsonStringEnumMemberName("limited")] Limited,
    [JsonStringEnumMemberName("missing")] Missing,
}
