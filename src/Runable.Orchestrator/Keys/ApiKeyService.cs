using System.Security.Cryptography;
using System.Text;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Keys;

/// <summary>API keys: created with scopes for a tenant, shown once, stored only as a SHA-256 hash, revocable at once.</summary>
public sealed class ApiKeyService(OrchestratorStore store, TimeProvider time)
{
    /// <summary>Creates a key; the returned secret is not stored and cannot be shown again.</summary>
    public (ApiKeyInfo Info, string Secret) Create(string tenant, string name, IReadOnlyCollection<string> scopes)
    {
        var unknown = scopes.Where(s => !Caller.AllScopes.Contains(s)).ToList();
        if (unknown.Count > 0 || scopes.Count == 0)
        {
            throw new OrchestratorException(400, "invalid_argument", $"scopes must be some of: {string.Join(", ", Caller.AllScopes)}.");
        }

        var secret = "rk_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var info = new ApiKeyInfo
        {
            Id = "key_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant(),
            Tenant = tenant,
            Name = name,
            Scopes = [.. scopes.Distinct(StringComparer.Ordinal)],
            CreatedAt = time.GetUtcNow(),
        };
        Insert(info, secret);
        return (info, secret);
    }

    /// <summary>Stores a key given from outside (e.g. <c>AGENT_API_KEY</c>) as an admin key, once.</summary>
    public void EnsureAdmin(string secret, string tenant = "default")
    {
        if (Authenticate(secret) is not null)
        {
            return;
        }

        Insert(new ApiKeyInfo { Id = "key_env", Tenant = tenant, Name = "from environment", Scopes = [Caller.Admin], CreatedAt = time.GetUtcNow() }, secret);
    }

    /// <summary>True when no key exists yet (first start).</summary>
    public bool IsEmpty() => store.Query("SELECT COUNT(*) FROM keys", r => r.GetInt64(0))[0] == 0;

    /// <summary>The caller a secret belongs to, or null for an unknown or revoked key.</summary>
    public Caller? Authenticate(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 256)
        {
            return null;
        }

        var rows = store.Query("SELECT id, tenant, scopes FROM keys WHERE hash = $hash AND revoked_at IS NULL",
            r => new Caller(r.GetString(0), r.GetString(1), r.GetString(2).Split(' ').ToHashSet(StringComparer.Ordinal)),
            ("$hash", Hash(secret)));
        return rows.Count == 1 ? rows[0] : null;
    }

    /// <summary>The keys of a tenant (never their secrets).</summary>
    public List<ApiKeyInfo> List(string tenant) =>
        store.Query("SELECT id, tenant, name, scopes, created_at, revoked_at FROM keys WHERE tenant = $tenant ORDER BY created_at",
            r => new ApiKeyInfo
            {
                Id = r.GetString(0),
                Tenant = r.GetString(1),
                Name = r.GetString(2),
                Scopes = r.GetString(3).Split(' '),
                CreatedAt = DateTimeOffset.Parse(r.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
                RevokedAt = r.IsDBNull(5) ? null : DateTimeOffset.Parse(r.GetString(5), System.Globalization.CultureInfo.InvariantCulture),
            }, ("$tenant", tenant));

    /// <summary>Revokes a key of the tenant; it is refused from the next request on.</summary>
    public void Revoke(string tenant, string id)
    {
        var changed = store.Execute("UPDATE keys SET revoked_at = $now WHERE id = $id AND tenant = $tenant AND revoked_at IS NULL",
            ("$now", time.GetUtcNow().ToString("O")), ("$id", id), ("$tenant", tenant));
        if (changed == 0)
        {
            throw new OrchestratorException(404, "key_not_found", $"No active key '{id}'.");
        }
    }

    private void Insert(ApiKeyInfo info, string secret) =>
        store.Execute("INSERT INTO keys (id, tenant, name, scopes, hash, created_at) VALUES ($id, $tenant, $name, $scopes, $hash, $created)",
            ("$id", info.Id), ("$tenant", info.Tenant), ("$name", info.Name), ("$scopes", string.Join(' ', info.Scopes)),
            ("$hash", Hash(secret)), ("$created", info.CreatedAt.ToString("O")));

    /// <summary>Keys are long random secrets, so one SHA-256 is the right hash: no dictionary to slow down.</summary>
    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
