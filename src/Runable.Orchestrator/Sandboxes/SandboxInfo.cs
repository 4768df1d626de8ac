using Runable.Sandboxes;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>A sandbox as the API shows it (never its box token).</summary>
public sealed record SandboxInfo
{
    public required string Id { get; init; }

    /// <summary><c>running</c>, or <c>exited</c> when its processes ended on their own (it is destroyed when next reaped or deleted).</summary>
    public required string Status { get; init; }

    public required string Backend { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public required SandboxLimits Limits { get; init; }

    public required NetworkRequest Network { get; init; }

    /// <summary>Seconds without a request before the sandbox is destroyed; null when it is kept until deleted.</summary>
    public double? IdleTimeoutS { get; init; }

    public DateTimeOffset LastActiveAt { get; init; }
}
