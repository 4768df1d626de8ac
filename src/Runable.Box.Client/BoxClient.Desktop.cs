using System.Globalization;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Serialization;

namespace Runable.Box.Client;

public sealed partial class BoxClient
{
    /// <summary><c>POST /desktop/actions</c>: runs one computer-use action on the box's desktop.</summary>
    public Task<DesktopActionResult> DesktopActionAsync(DesktopActionRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "desktop/actions", request, BoxJsonContext.Default.DesktopActionRequest,
            BoxJsonContext.Default.DesktopActionResult, cancellationToken);

    /// <summary><c>GET /desktop/screenshot</c>: a PNG of the screen, scaled down to <paramref name="width"/> pixels wide when given.</summary>
    public async Task<DesktopScreenshotResponse> DesktopScreenshotAsync(int? width = null, CancellationToken cancellationToken = default)
    {
        var path = Query("desktop/screenshot", ("width", width?.ToString(CultureInfo.InvariantCulture)));
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var png = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        static string? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
        return new DesktopScreenshotResponse(png,
            int.Parse(Header(response, "X-Screen-Width") ?? "0", CultureInfo.InvariantCulture),
            int.Parse(Header(response, "X-Screen-Height") ?? "0", CultureInfo.InvariantCulture),
            double.Parse(Header(response, "X-Scale") ?? "1", CultureInfo.InvariantCulture));
    }

    /// <summary><c>GET /desktop/windows</c>: the visible top-level windows.</summary>
    public Task<List<DesktopWindow>> DesktopWindowsAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("desktop/windows", BoxJsonContext.Default.ListDesktopWindow, cancellationToken);

    /// <summary><c>POST /xdot/exec</c>: raw xdotool against the box's desktop.</summary>
    public Task<XdotExecResult> XdotoolAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, "xdot/exec", new XdotExecRequest { XdotoolArgs = arguments }, BoxJsonContext.Default.XdotExecRequest,
            BoxJsonContext.Default.XdotExecResult, cancellationToken);
}

/// <summary>A screenshot from <c>GET /desktop/screenshot</c> and how its pixels map to the screen's.</summary>
/// <param name="Png">The PNG file.</param>
/// <param name="ScreenWidth">The screen's width (<c>X-Screen-Width</c>).</param>
/// <param name="ScreenHeight">The screen's height (<c>X-Screen-Height</c>).</param>
/// <param name="Scale">Screen pixels per image pixel (<c>X-Scale</c>).</param>
public sealed record DesktopScreenshotResponse(byte[] Png, int ScreenWidth, int ScreenHeight, double Scale);
