namespace Runable.Sandboxes;

/// <summary>A running sandbox and how to reach the box server inside it.</summary>
public sealed record Sandbox
{
    public required string Id { get; init; }

    /// <summary>The host path of the unix socket the box server inside listens on.</summary>
    public required string BoxSocket { get; init; }

    /// <summary>The box's private token; only the orchestrator holds it.</summary>
    public required string BoxToken { get; init; }

    /// <summary>The host directory seen inside as /workspace.</summary>
    public required string Workspace { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The host pid of the sandbox's outermost process.</summary>
    public int Pid { get; init; }
}
