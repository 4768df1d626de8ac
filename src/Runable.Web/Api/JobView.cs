namespace Runable.Web.Api;

/// <summary>A job as <c>GET /v1/jobs/{id}</c> answers it.</summary>
public sealed record JobView
{
    public required string Id { get; init; }

    public required string Task { get; init; }

    public required string Status { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int Attempts { get; init; }

    public string? SandboxId { get; init; }

    public string? Model { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = [];

    public JobUsageView Usage { get; init; } = new();

    public JobResultView? Result { get; init; }

    public string? Error { get; init; }

    public bool CancelRequested { get; init; }

    /// <summary>True once the job can no longer change (succeeded, failed, cancelled, timed out).</summary>
    public bool IsFinal => Status is "succeeded" or "failed" or "cancelled" or "timed_out";

    /// <summary>How long the job has run (or waited, while queued), as of <paramref name="now"/>.</summary>
    public TimeSpan Elapsed(DateTimeOffset now)
    {
        var start = StartedAt ?? CreatedAt;
        var end = FinishedAt ?? (IsFinal ? start : now);
        return end > start ? end - start : TimeSpan.Zero;
    }
}
