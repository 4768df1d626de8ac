using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;
using Runable.Box.Desktop;
using Runable.Box.Protocol;
using Runable.Box.Server.Errors;

namespace Runable.Box.Server.Desktop;

/// <summary>
/// The desktop's live view: <c>GET /desktop/vnc</c>, a WebSocket carrying RFB in binary frames (as noVNC speaks)
/// to the box's VNC server, optionally view-only; and <c>GET /desktop/view</c>, a page running Debian's noVNC on
/// that socket, whose files are served under <c>/desktop/view/</c>. Both are behind the box's key like every route
/// (a browser opens the page once with <c>?api_key=</c> and then carries the cookie).
/// </summary>
public static class DesktopViewEndpoints
{
    /// <summary>Where Debian's novnc package installs noVNC.</summary>
    public const string NoVncDirectory = "/usr/share/novnc";

    /// <summary>True when noVNC's RFB client is where Debian's package puts it.</summary>
    public static bool NoVncInstalled => File.Exists(Path.Combine(NoVncDirectory, "core", "rfb.js"));

    private static readonly Dictionary<string, string> s_contentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".json"] = "application/json",
        [".png"] = "image/png",
        [".svg"] = "image/svg+xml",
        [".ico"] = "image/x-icon",
        [".woff"] = "font/woff",
        [".ttf"] = "font/ttf",
        [".mp3"] = "audio/mpeg",
        [".oga"] = "audio/ogg",
    };

    public static IEndpointRouteBuilder MapDesktopViewEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/desktop/vnc", BridgeAsync).ExcludeFromDescription();
        endpoints.MapGet("/desktop/view", ServePageAsync).ExcludeFromDescription();
        endpoints.MapGet("/desktop/view/{**path}", ServeFileAsync).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>True for <c>view_only=true</c> (or <c>1</c>).</summary>
    internal static bool ViewOnly(HttpRequest request) =>
        request.Query["view_only"].ToString() is var value && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    private static async Task BridgeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status400BadRequest, BoxErrorCodes.InvalidArgument,
                "/desktop/vnc is a WebSocket (RFB in binary frames, as noVNC speaks): open it with a WebSocket client, or open /desktop/view in a browser.");
            return;
        }

        var vnc = context.RequestServices.GetRequiredService<VncServer>();
        if (!vnc.Available)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, BoxErrorCodes.DesktopUnavailable,
                $"The live view is not available on this box. {DesktopService.InstallHint} {VncServer.InstallHint}");
            return;
        }

        var path = await vnc.EnsureStartedAsync(context.RequestAborted);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), context.RequestAborted);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            await ProblemWriter.WriteAsync(context, StatusCodes.Status502BadGateway, BoxErrorCodes.DesktopUnavailable,
                $"The VNC server did not answer: {e.Message}");
            return;
        }

        using var stream = new NetworkStream(socket, ownsSocket: true);
        var protocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p == "binary");
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var filter = ViewOnly(context.Request) ? new RfbViewOnlyFilter() : null;
        var toServer = ClientToServerAsync(webSocket, stream, filter, stop.Token);
        var toClient = ServerToClientAsync(stream, webSocket, stop.Token);
        if (await Task.WhenAny(toServer, toClient) == toServer)
        {
            // The client closed (or the filter cut it): end the VNC connection, which ends the other pump once
            // its last send is done (only then may the close frame go out).
            ShutDown(socket);
            if (await Task.WhenAny(toClient, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != toClient)
            {
                await stop.CancelAsync();
            }
        }

        await toClient;
        var reason = toServer.IsCompleted ? await toServer : null;
        if (webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await webSocket.CloseOutputAsync(reason is null ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.PolicyViolation,
                    reason ?? "The VNC session ended.", closing.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                webSocket.Abort();
            }
        }

        // The VNC server closed first: give the client a moment to answer the close.
        if (await Task.WhenAny(toServer, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) != toServer)
        {
            await stop.CancelAsync();
        }

        await toServer;
    }

    private static void ShutDown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }

    /// <summary>Client frames to the VNC server (through the view-only filter when there is one); a reason when the filter cut the session.</summary>
    private static async Task<string?> ClientToServerAsync(WebSocket webSocket, NetworkStream server, RfbViewOnlyFilter? filter, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var passed = new ArrayBufferWriter<byte>(buffer.Length);
        try
        {
            while (true)
            {
                var received = await webSocket.ReceiveAsync(buffer, cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                if (filter is null)
                {
                    await server.WriteAsync(buffer.AsMemory(0, received.Count), cancellationToken);
                    continue;
                }

                passed.Clear();
                if (!filter.Filter(buffer.AsSpan(0, received.Count), passed))
                {
                    return filter.Error;
                }

                if (passed.WrittenCount > 0)
                {
                    await server.WriteAsync(passed.WrittenMemory, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            return null;
        }
    }

    /// <summary>What the VNC server sends, as binary frames, until it closes.</summary>
    private static async Task<string?> ServerToClientAsync(NetworkStream server, WebSocket webSocket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await server.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return null;
                }

                await webSocket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, true, cancellationToken);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            return null;
        }
    }

    /// <summary>Our page: noVNC's RFB client on the WebSocket <c>vnc</c> next to it (a relative URL, so it works behind any proxy prefix).</summary>
    private static async Task ServePageAsync(HttpContext context)
    {
        if (!NoVncInstalled)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, BoxErrorCodes.DesktopUnavailable,
                $"noVNC is not installed on this box. {VncServer.InstallHint}");
            return;
        }

        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer"; // the address may carry ?api_key=
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.WriteAsync(Page, context.RequestAborted);
    }

    /// <summary>A file of noVNC, confined to its directory.</summary>
    private static async Task ServeFileAsync(HttpContext context, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            // /desktop/view/ : back to the page, whose relative links expect no trailing slash.
            context.Response.Redirect("../view" + context.Request.QueryString.Value);
            return;
        }

        var segments = path.Split('/');
        var file = Path.GetFullPath(Path.Combine([NoVncDirectory, .. segments]));
        if (segments.Any(s => s.Length == 0 || s.StartsWith('.') || s.Contains('\\', StringComparison.Ordinal)) ||
            !file.StartsWith(NoVncDirectory + "/", StringComparison.Ordinal) ||
            !s_contentTypes.TryGetValue(Path.GetExtension(file), out var contentType) || !File.Exists(file))
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status404NotFound, BoxErrorCodes.NotFound, $"noVNC has no file '{path}'.");
            return;
        }

        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.SendFileAsync(file, context.RequestAborted);
    }

    private const string Page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Runable desktop</title>
        <style>
          html, body { margin: 0; height: 100%; background: #1e1e1e; overflow: hidden; font: 13px sans-serif; }
          #status { position: fixed; top: 0; right: 0; padding: 2px 8px; color: #ddd; background: rgba(0, 0, 0, .6); z-index: 1; }
          #screen { width: 100%; height: 100%; }
        </style>
        </head>
        <body>
        <div id="status">Connecting…</div>
        <div id="screen"></div>
        <script type="module">
          import RFB from './view/core/rfb.js';

          const params = new URLSearchParams(location.search);
          const viewOnly = ['true', '1'].includes((params.get('view_only') || '').toLowerCase());
          // The key, when the page was opened with one, now lives in a cookie: keep it out of the address bar.
          if (params.has('api_key')) {
            params.delete('api_key');
            const rest = params.toString();
            history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
          }

          // 'vnc' next to this page: /desktop/vnc on the box, /v1/sandboxes/{id}/box/desktop/vnc through the orchestrator.
          const url = new URL('vnc' + (viewOnly ? '?view_only=true' : ''), location.href);
          url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
          const status = document.getElementById('status');
          const rfb = new RFB(document.getElementById('screen'), url.href, { shared: true });
          rfb.viewOnly = viewOnly;
          rfb.scaleViewport = true;
          rfb.resizeSession = false;
          rfb.addEventListener('connect', () => {
            status.textContent = viewOnly ? 'Connected (view only)' : 'Connected';
            document.body.dataset.state = 'connected';
          });
          rfb.addEventListener('disconnect', e => {
            status.textContent = e.detail.clean ? 'Disconnected' : 'Connection lost';
            document.body.dataset.state = 'disconnected';
          });
          rfb.addEventListener('desktopname', e => { document.title = e.detail.name + ' – Runable'; });
          window.rfb = rfb;
        </script>
        </body>
        </html>
        """;
}
