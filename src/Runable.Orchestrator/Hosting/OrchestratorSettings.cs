using Runable.Sandboxes.Network;

namespace Runable.Orchestrator.Hosting;

/// <summary>How the orchestrator listens, where it keeps its data, and how it makes sandboxes.</summary>
public sealed record OrchestratorSettings
{
    public int Port { get; init; } = 5100;

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The data directory: the SQLite database and the sandboxes' host directories. Never visible in a sandbox.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The directory of the runable program that runs as each sandbox's box server.</summary>
    public required string RunableDirectory { get; init; }

    /// <summary>Sandboxes kept ready for claims.</summary>
    public int PoolSize { get; init; } = 2;

    /// <summary>An admin key to accept in addition to stored ones (<c>AGENT_API_KEY</c>).</summary>
    public string? AdminKey { get; init; }

    /// <summary>The egress proxy's hosts file and trusted private addresses (see <see cref="EgressOptions"/>).</summary>
    public EgressOptions Egress { get; init; } = new();

    /// <summary>How often idle and exited sandboxes are looked for.</summary>
    public TimeSpan ReapInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest JSON body the orchestrator's own routes accept (box routes have the box's limits).</summary>
    public long MaxJsonBytes { get; init; } = 1024 * 1024;

    /// <summary>The largest body forwarded to a box (file uploads).</summary>
    public long MaxBoxBodyBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Browser origins (<c>https://ui.example.com</c>) whose pages may call the API (<c>RUNABLE_CORS_ORIGINS</c>); none by default.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>The models jobs use; null reads the <c>Models</c> configuration section and the conventional environment variables.</summary>
    public Models.ModelSettings? Models { get; init; }

    /// <summary>Uploads, git sources and artifacts of jobs.</summary>
    public Workspaces.WorkspaceOptions Workspaces { get; init; } = new();

    /// <summary>Defaults of the agent loop.</summary>
    public Agents.AgentOptions Agent { get; init; } = new();

    /// <summary>How many jobs run at once and how their leases are kept (<c>MaxRunning = 0</c>: this orchestrator queues jobs but runs none).</summary>
    public Jobs.JobWorkerOptions Jobs { get; init; } = new();

    /// <summary>Called once with the admin key created at first start (it is shown only then).</summary>
    public Action<string>? OnAdminKeyCreated { get; init; }
}
