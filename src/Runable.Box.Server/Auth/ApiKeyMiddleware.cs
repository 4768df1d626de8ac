using Runable.Box.Protocol;
using Runable.Box.Server.Errors;

namespace Runable.Box.Server.Auth;

/// <summary>
/// Lets a request through only with the box's key, taken from <c>X-API-Key</c>, <c>Authorization: Bearer</c>,
/// the <c>runable_key</c> cookie, or an <c>api_key</c> query parameter (for browser pages, which then get the cookie).
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
        if (verifier.Verify(request.Headers["X-API-Key"].ToString()) || verifier.Verify(BearerToken(request)) ||
            verifier.Verify(request.Cookies[CookieName]))
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

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ProblemWriter.WriteAsync(context, StatusCodes.Status401Unauthorized, BoxErrorCodes.Unauthorized,
            "A valid key is required: send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.");
    }

    private static bool IsOpen(PathString path) =>
        path.Equals("/health", StringComparison.OrdinalIgnoreCase);

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? header[Prefix.Length..].Trim() : null;
    }
}
