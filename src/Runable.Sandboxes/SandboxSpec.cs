using Runable.Sandboxes.Network;

namespace Runable.Sandboxes;

/// <summary>What to create: limits, network policy, and the host directory to serve as the sandbox's /workspace.</summary>
public sealed record SandboxSpec
{
    /// <summary>The host directory bound read-write at /workspace; a fresh one is made when null.</summary>
    public string? Workspace { get; init; }

    public SandboxLimits Limits { get; init; } = new();

    /// <summary>What the sandbox may reach beyond its loopback; nothing by default.</summary>
    public NetworkPolicy Network { get; init; } = NetworkPolicy.None;
}
