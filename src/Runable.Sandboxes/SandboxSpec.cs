namespace Runable.Sandboxes;

/// <summary>What to create: limits, and the host directory to serve as the sandbox's /workspace.</summary>
public sealed record SandboxSpec
{
    /// <summary>The host directory bound read-write at /workspace; a fresh one is made when null.</summary>
    public string? Workspace { get; init; }

    public SandboxLimits Limits { get; init; } = new();
}
