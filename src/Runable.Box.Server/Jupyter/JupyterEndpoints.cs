using System.Net.WebSockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Runable.Box.Code.Jupyter;
using Runable.Box.Server.Auth;
using Runable.Box.Server.Errors;

namespace Runable.Box.Server.Jupyter;

/// <summary>
/// Maps <c>/jupyter/{**path}</c> (every method, HTTP and WebSocket) to the box's Jupyter server, started on first
/// use: the request goes on to <c>http://127.0.0.1:{port}{PublicPath}jupyter/{path}</c> with Jupyter's token instead of
/// the box's key, bodies streamed both ways, WebSockets bridged frame by frame. The box's key protects the route
/// like any other (a browser opens it once with <c>?api_key=</c> and then carries the cookie).
/// </summary>
public static class JupyterEndpoints
{
    private const string Prefix = "/jupyter/";

    // One pool of loopback connections to the Jupyter server; no proxy, no redirects, no cookies, no decompression:
    // what Jupyter answers goes back to the caller as it is.
    private static readonly HttpMessageInvoker s_http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    });

    private static readonly HashSet<string> s_hopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
        "Proxy-Authorization", "TE", "Trailer", "Host", "Expect",
    };

    // The box's credentials never reach Jupyter (its token is added instead).
    private static readonly HashSet<string> s_credentials = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-API-Key", "Authorization", "Cookie",
    };

    public static IEndpointRouteBuilder MapJupyterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Jupyter's pages link from the base with its trailing slash; a relative redirect keeps whatever prefix
        // a proxy in front of the box added.
        endpoints.Map("/jupyter", context =>
        {
            // Routing matches "/jupyter/" here too (a trailing slash is optional to it): that one is Jupyter's base.
            if (context.Request.Path.Value?.EndsWith('/') == true)
            {
                return ForwardAsync(context);
            }

            context.Response.Redirect("jupyter/" + context.Request.QueryString.Value);
            return Task.CompletedTask;
        }).ExcludeFromDescription();
        endpoints.Map("/jupyter/{**path}", ForwardAsync).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task ForwardAsync(HttpContext context)
    {
        var jupyter = context.RequestServices.GetRequiredService<JupyterServer>();
        var instance = await jupyter.EnsureStartedAsync(context.RequestAborted);
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
        {
            statusPages.Enabled = false; // Jupyter's own answers, empty or not, go back untouched
        }

        var path = context.Request.Path.ToUriComponent();
        path = path.Length > Prefix.Length ? path[Prefix.Length..] : "";
        var target = $"127.0.0.1:{instance.Port}{jupyter.BaseUrl}{path}{QueryWithoutKey(context.Request.QueryString)}";
        if (context.WebSockets.IsWebSocketRequest)
        {
            await BridgeWebSocketAsync(context, new Uri("ws://" + target), instance.Token);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri("http://" + target))
        {
            Version = System.Net.HttpVersion.Version11,
        };
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (s_hopByHop.Contains(name) || s_credentials.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (CookiesWithoutKey(context.Request) is { } cookies)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookies);
        }

        request.Headers.TryAddWithoutValidation("Authorization", "token " + instance.Token);

        HttpResponseMessage response;
        try
        {
            response = await s_http.SendAsync(request, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status502BadGateway, JupyterServer.UnavailableCode,
                $"The Jupyter server did not answer: {e.Message}");
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            CopyResponseHeaders(response, context.Response);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
                await body.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
            {
                context.Abort(); // the caller or Jupyter went away mid-body: end the response as broken
            }
        }
    }

    private static void CopyResponseHeaders(HttpResponseMessage response, HttpResponse target)
    {
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (s_hopByHop.Contains(name))
            {
                continue;
            }

            if (string.Equals(name, "Set-Cookie", StringComparison.OrdinalIgnoreCase))
            {
                target.Headers.Append(name, values.ToArray()); // after the box's own key cookie, if it set one
            }
            else
            {
                target.Headers[name] = values.ToArray();
            }
        }
    }

    /// <summary>The query string less the box's <c>api_key</c> (the raw text of every other parameter is kept).</summary>
    internal static string QueryWithoutKey(QueryString query)
    {
        if (!query.HasValue)
        {
            return "";
        }

        var kept = query.Value![1..].Split('&').Where(part =>
        {
            var name = part.Split('=', 2)[0];
            return part.Length > 0 && !string.Equals(Uri.UnescapeDataString(name.Replace('+', ' ')),
                ApiKeyMiddleware.QueryParameter, StringComparison.Ordinal);
        }).ToList();
        return kept.Count == 0 ? "" : "?" + string.Join('&', kept);
    }

    /// <summary>The request's cookies less the box's key cookie; null when none is left.</summary>
    private static string? CookiesWithoutKey(HttpRequest request)
    {
        var kept = request.Headers.Cookie
            .SelectMany(header => (header ?? "").Split(';'))
            .Select(cookie => cookie.Trim())
            .Where(cookie => cookie.Length > 0 && !cookie.StartsWith(ApiKeyMiddleware.CookieName + "=", StringComparison.Ordinal))
            .ToList();
        return kept.Count == 0 ? null : string.Join("; ", kept);
    }

    private static async Task BridgeWebSocketAsync(HttpContext context, Uri target, string token)
    {
        using var upstream = new ClientWebSocket();
        upstream.Options.Proxy = null;
        upstream.Options.CollectHttpResponseDetails = true;
        upstream.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        upstream.Options.SetRequestHeader("Authorization", "token " + token);
        if (CookiesWithoutKey(context.Request) is { } cookies)
        {
            upstream.Options.SetRequestHeader("Cookie", cookies);
        }

        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            upstream.Options.AddSubProtocol(protocol);
        }

        try
        {
            await upstream.ConnectAsync(target, context.RequestAborted);
        }
        catch (WebSocketException e)
        {
            // Jupyter refused (an unknown kernel is 404): the caller gets the same status, not a WebSocket.
            var status = upstream.HttpStatusCode is var code && (int)code >= 400 ? (int)code : StatusCodes.Status502BadGateway;
            await ProblemWriter.WriteAsync(context, status, status == 404 ? "not_found" : JupyterServer.UnavailableCode,
                $"Jupyter refused the WebSocket {context.Request.Path}: {e.Message}");
            return;
        }

        using var downstream = await context.WebSockets.AcceptWebSocketAsync(upstream.SubProtocol);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var toJupyter = PumpAsync(downstream, upstream, stop.Token);
        var toCaller = PumpAsync(upstream, downstream, stop.Token);
        var first = await Task.WhenAny(toJupyter, toCaller);
        // One side closed (its close was passed on) or broke: give the other a moment to finish the handshake.
        var other = first == toJupyter ? toCaller : toJupyter;
        if (await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != other)
        {
            await stop.CancelAsync();
        }

        await Task.WhenAll(toJupyter, toCaller);
        if (first.Result is false || other.Result is false)
        {
            // Broken rather than closed: make sure neither side waits for a close that will not come.
            upstream.Abort();
            downstream.Abort();
        }
    }

    /// <summary>Passes frames (text or binary, fragments as they come) until a close, which is passed on; false when broken.</summary>
    private static async Task<bool> PumpAsync(WebSocket from, WebSocket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await from.ReceiveAsync(buffer, cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (to.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await to.CloseOutputAsync(from.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                            from.CloseStatusDescription, cancellationToken);
                    }

                    return true;
                }

                await to.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            return false;
        }
    }
}
