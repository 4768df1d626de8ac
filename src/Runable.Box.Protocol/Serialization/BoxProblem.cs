using System.Text.Json;
using System.Text.Json.Serialization;

namespace Runable.Box.Protocol.Serialization;

/// <summary>An <c>application/problem+json</c> body as the box writes it.</summary>
public sealed record BoxProblem
{
    public string? Type { get; init; }

    public string? Title { get; init; }

    public int? Status { get; init; }

    public string? Detail { get; init; }

    /// <summary>The stable snake_case error code.</summary>
    public string? Code { get; init; }

    /// <summary>Any further fields of the problem.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; set; }
}
