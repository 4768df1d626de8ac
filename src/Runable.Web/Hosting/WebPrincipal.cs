using System.Security.Claims;

namespace Runable.Web.Hosting;

/// <summary>
/// The signed-in key as the request's user, which Blazor hands to the circuit: the key itself (kept on the server, to
/// call the API with) and its identity.
/// </summary>
public static class WebPrincipal
{
    /// <summary>The authentication type of the principal.</summary>
    public const string AuthenticationType = "runable_key";

    private const string KeyClaim = "runable:key";
    private const string KeyIdClaim = "runable:key_id";
    private const string TenantClaim = "runable:tenant";
    private const string ScopeClaim = "runable:scope";

    /// <summary>The principal of <paramref name="key"/> with <paramref name="identity"/>.</summary>
    public static ClaimsPrincipal Create(string key, WebIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var claims = new List<Claim> { new(KeyClaim, key), new(KeyIdClaim, identity.KeyId), new(TenantClaim, identity.Tenant) };
        claims.AddRange(identity.Scopes.Select(s => new Claim(ScopeClaim, s)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType));
    }

    /// <summary>The key of the principal, if it is one of ours.</summary>
    public static string? Key(ClaimsPrincipal user) => Ours(user)?.FindFirst(KeyClaim)?.Value;

    /// <summary>The identity of the principal, if it is one of ours.</summary>
    public static WebIdentity? Identity(ClaimsPrincipal user) =>
        Ours(user) is { } identity && identity.FindFirst(KeyIdClaim)?.Value is { } id && identity.FindFirst(TenantClaim)?.Value is { } tenant
            ? new WebIdentity(id, tenant, identity.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal))
            : null;

    private static ClaimsIdentity? Ours(ClaimsPrincipal user) =>
        user?.Identities.FirstOrDefault(i => i.AuthenticationType == AuthenticationType && i.IsAuthenticated);
}
