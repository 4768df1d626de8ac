namespace Runable.Orchestrator.Sandboxes;

/// <summary>A sandbox as the API shows it (never its box token).</summary>
public sealed record SandboxInfo
{
    public required string Id { get; init; }

    public required string Status { get; init; }

    public required string Backend { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
