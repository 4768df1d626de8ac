namespace Runable.Web.Hosting;

/// <summary>Who a signed-in key is, as the orchestrator's key store answers: its id, its tenant and its scopes.</summary>
public sealed record WebIdentity(string KeyId, string Tenant, IReadOnlySet<string> Scopes)
{
    /// <summary>The scope that holds every other one.</summary>
    public const string AdminScope = "admin";

    /// <summary>True when the key holds <paramref name="scope"/> (an admin key holds every scope).</summary>
    public bool Can(string scope) => Scopes.Contains(AdminScope) || Scopes.Contains(scope);

    /// <summary>True for an admin key (keys page, every tenant object of its tenant).</summary>
    public bool IsAdmin => Scopes.Contains(AdminScope);
}
