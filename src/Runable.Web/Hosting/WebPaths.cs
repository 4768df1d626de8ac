namespace Runable.Web.Hosting;

/// <summary>
/// The UI's paths, for the host's key check: which requests need no key (the sign-in page, sign-out, the UI's static
/// assets), and which are page navigations that should go to the sign-in page instead of a 401.
/// </summary>
public static class WebPaths
{
    /// <summary>The sign-in page.</summary>
    public const string SignIn = "/signin";

    /// <summary>The sign-out route (POST).</summary>
    public const string SignOut = "/signout";

    /// <summary>The prefix of the UI's static assets.</summary>
    public const string Assets = "/ui";

    /// <summary>Blazor's script, served from the UI's assets.</summary>
    public const string BlazorScript = "/_framework/blazor.web.js";

    private static readonly string[] s_pagePrefixes = ["/jobs", "/sandboxes", "/keys"];

    /// <summary>True for the requests the UI answers without a key: the sign-in page and form, sign-out, static assets.</summary>
    public static bool IsPublic(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        return path.Equals(SignIn, StringComparison.OrdinalIgnoreCase)
            || path.Equals(SignOut, StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments(Assets, StringComparison.OrdinalIgnoreCase)
            || path.Equals(BlazorScript, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True for a browser's GET of one of the UI's pages (<c>/</c>, <c>/jobs...</c>, <c>/sandboxes...</c>, <c>/keys</c>).</summary>
    public static bool IsPage(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return false;
        }

        var path = request.Path;
        return !path.HasValue || path.Value == "/" || s_pagePrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The sign-in page's address that comes back to this request's page afterwards.</summary>
    public static string SignInFor(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var back = request.Path.Value + request.QueryString.Value;
        return back is null or "" or "/" ? SignIn : $"{SignIn}?return={Uri.EscapeDataString(back)}";
    }

    /// <summary><paramref name="returnUrl"/> when it is a path of this site, else <c>/</c> (never an open redirect).</summary>
    public static string LocalOrRoot(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Contains("://", StringComparison.Ordinal)
            ? url
            : "/";
}
