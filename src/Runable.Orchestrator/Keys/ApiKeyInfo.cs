namespace Runable.Orchestrator.Keys;

/// <summary>An API key as listed (its secret is never stored).</summary>
public sealed record ApiKeyInfo
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Name { get; init; }

    public required IReadOnlyList<string> Scopes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }
}
