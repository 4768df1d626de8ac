using System.Globalization;
using Runable.Box.Desktop;
using Runable.Box.Protocol.Desktop;

namespace Runable.Box.Server.Desktop;

/// <summary>Maps <c>/desktop</c> and <c>/xdot</c> onto the <see cref="DesktopService"/>: the box's virtual desktop for computer use.</summary>
public static class DesktopEndpoints
{
    public static RouteGroupBuilder MapDesktopEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/desktop").WithTags("Desktop");

        group.MapPost("/actions", async (DesktopActionRequest request, DesktopService desktop, CancellationToken cancellationToken) =>
                TypedResults.Ok(await desktop.RunAsync(request, cancellationToken)))
            .WithSummary("Run one computer-use action (screenshot, left_click, type, key, scroll, ...) on the desktop, which starts on first use; actions run one at a time.");

        group.MapGet("/screenshot", async (int? width, DesktopService desktop, HttpContext context, CancellationToken cancellationToken) =>
            {
                var shot = await desktop.ScreenshotAsync(width, cancellationToken);
                var headers = context.Response.Headers;
                headers["X-Screen-Width"] = shot.ScreenWidth.ToString(CultureInfo.InvariantCulture);
                headers["X-Screen-Height"] = shot.ScreenHeight.ToString(CultureInfo.InvariantCulture);
                headers["X-Scale"] = shot.Scale.ToString("0.######", CultureInfo.InvariantCulture);
                headers.CacheControl = "no-store";
                return TypedResults.File(shot.Png, "image/png");
            })
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .WithSummary("A PNG of the screen; with width, scaled down keeping the aspect ratio (X-Scale: screen pixels per image pixel).");

        group.MapGet("/windows", async (DesktopService desktop, CancellationToken cancellationToken) =>
                TypedResults.Ok((List<DesktopWindow>)[.. await desktop.WindowsAsync(cancellationToken)]))
            .WithSummary("The visible top-level windows: id, title, and the position and size of their content.");

        return group;
    }

    /// <summary>Maps <c>POST /xdot/exec</c>, raw xdotool against the desktop, for clients of the original API.</summary>
    public static RouteGroupBuilder MapXdotEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/xdot").WithTags("Desktop");
        group.MapPost("/exec", async (XdotExecRequest request, DesktopService desktop, CancellationToken cancellationToken) =>
                TypedResults.Ok(await desktop.XdotoolAsync(request, cancellationToken)))
            .WithSummary("Run xdotool with raw arguments against the desktop: stdout, stderr and exit_code.");
        return group;
    }
}
