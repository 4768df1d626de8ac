namespace Runable.Web.Api;

/// <summary>A sandbox as <c>GET /v1/sandboxes/{id}</c> answers it.</summary>
public sealed record SandboxView
{
    public required string Id { get; init; }

    public required string Status { get; init; }

    public string Backend { get; init; } = "";

    public DateTimeOffset CreatedAt { get; init; }

    public SandboxLimitsView Limits { get; init; } = new();

    public NetworkView Network { get; init; } = new("none", null);

    public double? IdleTimeoutS { get; init; }

    public DateTimeOffset LastActiveAt { get; init; }
}
