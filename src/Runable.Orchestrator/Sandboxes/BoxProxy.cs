using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
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
    private readonly ConcurrentDictionary<string, HttpMessageInvoker> _invokers = new(StringComparer.Ordinal);

    public async Task ForwardAsync(HttpContext context, Sandbox sandbox, string path)
    {
        var invoker = _invokers.GetOrAdd(sandbox.Id, _ => new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(sandbox.BoxSocket), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }));
        var error = await forwarder.SendAsync(context, "http://box/", invoker, ForwarderRequestConfig.Empty,
            new BoxTransformer(sandbox.BoxToken, path)).ConfigureAwait(false);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
        }
    }

    /// <summary>Forgets the connection pool of a destroyed sandbox.</summary>
    public void Forget(string sandboxId)
    {
        if (_invokers.TryRemove(sandboxId, out var invoker))
        {
            invoker.Dispose();
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
