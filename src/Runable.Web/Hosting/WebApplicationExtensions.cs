using Microsoft.AspNetCore.Routing;
using Runable.Web.Components;

namespace Runable.Web.Hosting;

/// <summary>Puts the web UI in the host's pipeline and maps its pages, assets and sign-out.</summary>
public static class WebApplicationExtensions
{
    /// <summary>
    /// Makes the signed-in key the request's user for the UI's pages and Blazor's hub, so each circuit knows its key. Place
    /// it after the host's key check, which has already refused unknown keys and cookies sent by pages of other origins.
    /// </summary>
    public static IApplicationBuilder UseRunableWeb(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var keys = app.ApplicationServices.GetRequiredService<WebKeyCheck>();
        return app.Use((context, next) =>
        {
            if ((context.Request.Path.StartsWithSegments("/_blazor") || WebPaths.IsPage(context.Request))
                && context.Request.Cookies[SessionCookie.Name] is { Length: > 0 } key
                && keys.Authenticate(key) is { } identity)
            {
                context.User = WebPrincipal.Create(key, identity);
            }

            return next(context);
        });
    }

    /// <summary>Maps the UI: its pages at <c>/</c>, <c>/jobs</c>, <c>/sandboxes</c>, <c>/keys</c>, <c>/signin</c>; its assets under <c>/ui/</c>; sign-out.</summary>
    public static IEndpointRouteBuilder MapRunableWeb(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var assets = endpoints.ServiceProvider.GetRequiredService<EmbeddedAssets>();
        endpoints.MapGet(WebPaths.Assets + "/{**path}", (HttpContext context, string path) => assets.ServeAsync(context, path)).ExcludeFromDescription();
        endpoints.MapGet(WebPaths.BlazorScript, (HttpContext context) => assets.ServeAsync(context, "_framework/blazor.web.js")).ExcludeFromDescription();
        endpoints.MapPost(WebPaths.SignOut, (HttpContext context) =>
        {
            // A page of another origin may not sign this browser out.
            var origin = context.Request.Headers.Origin.ToString();
            if (origin.Length > 0 && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)))
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            context.Response.Cookies.Delete(SessionCookie.Name, SessionCookie.Options(context.Request));
            return Results.Redirect(WebPaths.SignIn + "?signed_out=1");
        }).ExcludeFromDescription();
        endpoints.MapRazorComponents<App>().AddInteractiveServerRenderMode().ExcludeFromDescription();
        return endpoints;
    }
}
