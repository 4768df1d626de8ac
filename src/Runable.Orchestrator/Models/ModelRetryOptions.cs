namespace Runable.Orchestrator.Models;

/// <summary>How a failed model call is retried: how often, and how long to wait between attempts.</summary>
public sealed record ModelRetryOptions
{
    /// <summary>Attempts in all, the first included; 1 means no retry.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The backoff's first ceiling; it doubles with every failed attempt and the wait is drawn below it (full jitter).</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The highest backoff ceiling.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait a server's <c>Retry-After</c> can impose.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
}
