namespace Runable.Orchestrator.Auth;

/// <summary>
/// Refuses a cookie-authenticated request that a page of another origin made (cross-site WebSocket hijacking,
/// form posts): browsers attach cookies to such requests but always say where they came from in <c>Origin</c>.
/// <c>SameSite=Strict</c> already keeps the cookie off other sites' requests; this also covers other ports and
/// subdomains of the same site, which SameSite counts as the same.
/// </summary>
public static class CrossOrigin
{
    public const string Refusal =
        "This request came from a page of another origin carrying the key's cookie; send the key as 'X-API-Key' instead.";

    /// <summary>True when the request has no <c>Origin</c> or the origin's host and port are the request's own <c>Host</c>.</summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        // Host and port only: behind a TLS-terminating proxy the page is https while this request is http.
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
            string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
