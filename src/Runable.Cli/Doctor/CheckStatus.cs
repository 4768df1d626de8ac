using System.Text.Json.Serialization;

namespace Runable.Cli.Doctor;

/// <summary>What a host check found.</summary>
public enum CheckStatus
{
    /// <summary>Present and usable.</summary>
    [JsonStringEnumMemberName("found")]
    Found,

    /// <summary>Present but not fully usable (no permission, a controller missing, no answer in time).</summary>
    [JsonStringEnumMemberName("limited")]
    Limited,

    /// <summary>Not on this host.</summary>
    [JsonStringEnumMemberName("missing")]
    Missing,
}
