namespace Runable.Orchestrator.Jobs;

/// <summary>A job as the API shows it (<c>GET /v1/jobs/{id}</c>).</summary>
public sealed record JobInfo
{
    public required string Id { get; init; }

    public required string Task { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int Attempts { get; init; }

    public string? SandboxId { get; init; }

    public string? Model { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = [];

    public required JobUsage Usage { get; init; }

    public JobResultInfo? Result { get; init; }

    public string? Error { get; init; }

    public bool CancelRequested { get; init; }

    public static JobInfo From(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new JobInfo
        {
            Id = job.Id,
            Task = job.Task,
            Status = job.Status,
            CreatedAt = job.CreatedAt,
            StartedAt = job.StartedAt,
            FinishedAt = job.FinishedAt,
            Attempts = job.Attempts,
            SandboxId = job.SandboxId,
            Model = job.Model,
            Labels = job.Labels,
            Usage = job.Usage,
            Result = job.Summary is null && job.Reason is null ? null : new JobResultInfo(job.Summary, job.Reason),
            Error = job.Error,
            CancelRequested = job.CancelRequested && !JobStatus.IsFinal(job.Status),
        };
    }
}

/// <summary>How a job ended: the agent's summary and the reason it stopped.</summary>
public sealed record JobResultInfo(string? Summary, string? Reason);

/// <summary>One page of <c>GET /v1/jobs</c>.</summary>
public sealed record JobPage(IReadOnlyList<JobInfo> Items, string? NextCursor);

/// <summary>The body of <c>POST /v1/jobs/{id}/messages</c>.</summary>
public sealed record JobMessageRequest(string? Text);
