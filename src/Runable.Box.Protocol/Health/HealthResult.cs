namespace Runable.Box.Protocol.Health;

/// <summary>The result of <c>GET /health</c>.</summary>
public sealed record HealthResult
{
    public string Status { get; init; } = "ok";

    public required string Version { get; init; }

    public required HealthFeatures Features { get; init; }
}
