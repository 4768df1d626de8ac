using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Runable.Box.Client;
using Runable.Sandboxes;
using Yarp.ReverseProxy.Forwarder;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>
/// Forwards <c>/v1/sandboxes/{id}/box/{path}</c> (HTTP, SSE and WebSocket) to the sandbox's box over its unix
/// socket with YARP, replacing the caller's credentials with the sandbox's private token, which never leaves
/// the orchestrator.
/// </summary>
public sealed class BoxProxy(IHttpForwarder forwarder)
{
    private readonly ConcurrentDictionary<string, SocketsHttpHandler> _handlers = new(StringComparer.Ordinal);

    public async Task ForwardAsync(HttpContext context, Sandbox sandbox, string path)
    {
        // Routing drops a trailing slash from a catch-all's value; the box's routes tell "/jupyter" from "/jupyter/".
        if (context.Request.Path.Value?.EndsWith('/') == true && path.Length > 0 && !path.EndsWith('/'))
        {
            path += "/";
        }

        using var invoker = new HttpMessageInvoker(Handler(sandbox), disposeHandler: false);
        var error = await forwarder.SendAsync(context, "http://box/", invoker, ForwarderRequestConfig.Empty,
            new BoxTransformer(sandbox.BoxToken, path)).ConfigureAwait(false);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
        }
    }

    /// <summary>A client of the sandbox's box for the orchestrator's own use (an agent's tools), on the same connection pool.</summary>
    public BoxClient Client(Sandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var http = new HttpClient(Handler(sandbox), disposeHandler: false) { BaseAddress = new Uri("http://box/"), Timeout = Timeout.InfiniteTimeSpan };
        return new BoxClient(http, sandbox.BoxToken, ownsHttpClient: true);
    }

    /// <summary>The sandbox's connection pool: HTTP over its box's unix socket.</summary>
    private SocketsHttpHandler Handler(Sandbox sandbox) => _handlers.GetOrAdd(sandbox.Id, _ => new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(sandbox.BoxSocket), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new NetworkStream(socket, ownsSocket: true);
        },
    });

    /// <summary>Forgets the connection pool of a destroyed sandbox.</summary>
    public void Forget(string sandboxId)
    {
        if (_handlers.TryRemove(sandboxId, out var handler))
        {
            handler.Dispose();
        }
    }

    private sealed class BoxTransformer(string token, string path) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.RequestUri = new Uri($"http://box/{path.TrimStart('/')}{QueryWithoutKey(httpContext.Request.QueryString)}");
            proxyRequest.Headers.Remove("X-API-Key");
            proxyRequest.Headers.Remove("Authorization");
            proxyRequest.Headers.Remove("Cookie");
            proxyRequest.Headers.TryAddWithoutValidation("X-API-Key", token);
            proxyRequest.Headers.Host = "box";
        }

        private static string QueryWithoutKey(QueryString query)
        {
            if (!query.HasValue)
            {
                return "";
            }

            var parts = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query.Value)
                .Where(p => p.Key != "api_key")
                .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"));
            var joined = string.Join('&', parts);
            return joined.Length == 0 ? "" : "?" + joined;
        }
    }
}
