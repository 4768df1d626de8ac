namespace Runable.Orchestrator.Jobs;

/// <summary>
/// A job as the store keeps it: what was asked (<see cref="Spec"/>, as submitted), where it stands, what it used,
/// and who holds its lease while it runs.
/// </summary>
public sealed record Job
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Task { get; init; }

    public required string Status { get; init; }

    /// <summary>The submitted request (workspace, model, limits, network, env, labels...) as JSON.</summary>
    public required string Spec { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = [];

    public int Priority { get; init; }

    public string? Model { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How many times a worker took the job (a lost lease makes it available again).</summary>
    public int Attempts { get; init; }

    public string? SandboxId { get; init; }

    public JobUsage Usage { get; init; } = new();

    public string? Summary { get; init; }

    /// <summary>Why the job ended: <c>finished</c>, <c>max_steps</c>, <c>cancelled</c>, <c>timeout</c>, <c>lease_lost</c>...</summary>
    public string? Reason { get; init; }

    public string? Error { get; init; }

    public bool CancelRequested { get; init; }

    public string? LeaseOwner { get; init; }

    public DateTimeOffset? LeaseExpiresAt { get; init; }
}

/// <summary>What a job has used so far.</summary>
public sealed record JobUsage
{
    public int Steps { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public decimal CostUsd { get; init; }
}
