namespace Runable.Web.Api;

/// <summary>An API key as listed (never its secret).</summary>
public sealed record KeyView
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Name { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }
}
