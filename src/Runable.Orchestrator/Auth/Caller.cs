namespace Runable.Orchestrator.Auth;

/// <summary>Who is calling: the key's id, its tenant and its scopes.</summary>
public sealed record Caller(string KeyId, string Tenant, IReadOnlySet<string> Scopes)
{
    public const string Admin = "admin";
    public const string JobsWrite = "jobs:write";
    public const string JobsRead = "jobs:read";
    public const string SandboxesScope = "sandboxes";

    /// <summary>Every scope a key may hold.</summary>
    public static readonly IReadOnlySet<string> AllScopes = new HashSet<string>(StringComparer.Ordinal) { Admin, JobsWrite, JobsRead, SandboxesScope };

    /// <summary>True when the key holds <paramref name="scope"/> (admin holds every scope).</summary>
    public bool Can(string scope) => Scopes.Contains(Admin) || Scopes.Contains(scope);
}
