namespace Runable.Web.Hosting;

/// <summary>The browser's session: the key itself in an HttpOnly, SameSite=Strict cookie, the one the API's key check reads.</summary>
public static class SessionCookie
{
    /// <summary>The cookie's name, shared with the API's key check and the box views.</summary>
    public const string Name = "runable_key";

    /// <summary>The cookie's settings: never readable by scripts, never sent with another site's requests, whole-site path.</summary>
    public static CookieOptions Options(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = "/", IsEssential = true };
    }
}
