namespace Runable.Sandboxes.Bubblewrap;

/// <summary>Settings of the bubblewrap backend.</summary>
public sealed record BubblewrapOptions
{
    /// <summary>Where sandboxes' directories (box socket, default workspace, filter) live on the host; never visible inside.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>The directory holding the <c>runable-box</c> program that runs as the box server inside.</summary>
    public required string RunableDirectory { get; init; }

    /// <summary>
    /// The URL path callers reach a sandbox's box under, with <c>{id}</c> for the sandbox's id (the orchestrator's
    /// <c>/v1/sandboxes/{id}/box/</c>); null when the box is reached at its root.
    /// </summary>
    public string? PublicBoxPath { get; init; }

    /// <summary>The bwrap program.</summary>
    public string Bwrap { get; init; } = "bwrap";

    /// <summary>How long a new sandbox's box server may take to answer.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The cgroup file system root.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";
}
