namespace Runable.Orchestrator.Workspaces;

/// <summary>Limits and policies of job workspaces: uploads, git sources and the git commands run in sandboxes.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>The largest upload (compressed tar.gz bytes) <c>POST /v1/uploads</c> accepts.</summary>
    public long MaxUploadBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>The most bytes an upload may unpack to (the sum of its files), so a small gzip cannot fill a sandbox.</summary>
    public long MaxUploadExpandedBytes { get; init; } = 8L * 1024 * 1024 * 1024;

    /// <summary>URL schemes a git source may use. Only <c>https</c>, <c>http</c> and <c>file</c> can be allowed
    /// (<c>file</c> for tests and local mirrors); ssh, git:// and transports such as <c>ext::</c> never are.</summary>
    public IReadOnlySet<string> GitSchemes { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "https" };

    /// <summary>When false (the default), a git host that resolves to a loopback, private or link-local address is refused
    /// and redirects are not followed, so a tenant cannot make the orchestrator fetch from its internal network.</summary>
    public bool AllowPrivateGitHosts { get; init; }

    /// <summary>How long a clone on the orchestrator host may take.</summary>
    public TimeSpan GitCloneTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Commits of history fetched for a git source (the baseline needs one); 0 fetches the whole history.</summary>
    public int GitCloneDepth { get; init; } = 50;

    /// <summary>The largest git directory a clone may produce before it is refused.</summary>
    public long MaxRepositoryBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>The git program on the orchestrator host.</summary>
    public string GitExecutable { get; init; } = "git";

    /// <summary>How long one git step inside a sandbox (checkout, baseline commit, diff) may take.</summary>
    public TimeSpan SandboxGitTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Schemes that can be enabled in <see cref="GitSchemes"/>.</summary>
    public static IReadOnlySet<string> PermittedGitSchemes { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "https", "http", "file" };

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        Positive(MaxUploadBytes, nameof(MaxUploadBytes));
        Positive(MaxUploadExpandedBytes, nameof(MaxUploadExpandedBytes));
        Positive(MaxRepositoryBytes, nameof(MaxRepositoryBytes));
        Positive(GitCloneTimeout.Ticks, nameof(GitCloneTimeout));
        Positive(SandboxGitTimeout.Ticks, nameof(SandboxGitTimeout));
        if (GitCloneDepth < 0)
        {
            throw new ArgumentException($"Workspaces:{nameof(GitCloneDepth)} must be 0 (whole history) or more.");
        }

        if (GitSchemes.FirstOrDefault(s => !PermittedGitSchemes.Contains(s)) is { } scheme)
        {
            throw new ArgumentException($"Workspaces:{nameof(GitSchemes)} may hold https, http and file; '{scheme}' is not allowed.");
        }

        if (string.IsNullOrWhiteSpace(GitExecutable))
        {
            throw new ArgumentException($"Workspaces:{nameof(GitExecutable)} is empty.");
        }
    }

    private static void Positive(long value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"Workspaces:{name} must be positive.");
        }
    }
}
