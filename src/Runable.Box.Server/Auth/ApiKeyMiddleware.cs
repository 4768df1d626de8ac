using Runable.Box.Protocol;
using Runable.Box.Server.Errors;

namespace Runable.Box.Server.Auth;

/// <summary>
/// Lets a request through only with the box's key, taken from <c>X-API-Key</c>, <c>Authorization: Bearer</c>,
/// an <c>api_key</c> query parameter (for browser pages, which then get the cookie), or the <c>runable_key</c> cookie.
/// <c>/health</c> is open.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyVerifier verifier)
{
    /// <summary>The cookie a browser keeps the key in after opening a page with <c>?api_key=</c>.</summary>
    public const string CookieName = "runable_key";

    /// <summary>The query parameter a browser page may carry the key in.</summary>
    public const string QueryParameter = "api_key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (verifier.AllowsAnonymous || IsOpen(context.Request.Path))
        {
            await next(context);
            return;
        }

        var request = context.Request;
        if (verifier.Verify(request.Headers["X-API-Key"].ToString()) || verifier.Verify(BearerToken(request)))
        {
            await next(context);
            return;
        }

        var fromQuery = request.Query[QueryParameter].ToString();
        if (verifier.Verify(fromQuery))
        {
            context.Response.Cookies.Append(CookieName, fromQuery, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = request.IsHttps,
                Path = "/",
            });
            await next(context);
            return;
        }

        if (verifier.Verify(request.Cookies[CookieName]))
        {
            if (!FromOwnOrigin(request))
            {
                // A page of another origin riding on the browser's cookie (cross-site WebSocket hijacking, form posts).
                await ProblemWriter.WriteAsync(context, StatusCodes.Status403Forbidden, BoxErrorCodes.CrossOrigin,
                    "This request came from a page of another origin carrying the key's cookie; send the key as 'X-API-Key' instead.");
                return;
            }

            await next(context);
            return;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ProblemWriter.WriteAsync(context, StatusCodes.Status401Unauthorized, BoxErrorCodes.Unauthorized,
            "A valid key is required: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.");
    }

    /// <summary>
    /// True unless the browser says (<c>Origin</c>) that a page of another host or port made the request. Host and
    /// port only: behind a TLS-terminating proxy the page is https while this request is http.
    /// </summary>
    private static bool FromOwnOrigin(HttpRequest request) =>
        request.Headers.Origin.ToString() is not { Length: > 0 } origin ||
        (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));

    private static bool IsOpen(PathString path) =>
        path.Equals("/health", StringComparison.OrdinalIgnoreCase);

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? header[Prefix.Length..].Trim() : null;
    }
}
