using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;

namespace Runable.Box.Server.Mcp;

/// <summary>
/// Maps the MCP endpoints once the box is listening, not before: building them (the tools' schemas, the handlers'
/// request delegates) is a quarter of the box's start-up, and a sandbox's first call is almost never MCP. Until
/// they exist, a placeholder at the same path waits for them and hands the request on, so an early MCP client
/// gets its answer a few milliseconds later rather than a 404.
/// </summary>
internal static class DeferredMcpEndpoints
{
    /// <summary>Maps a placeholder at <paramref name="pattern"/> now and the MCP endpoints in the background once the application has started.</summary>
    public static void MapMcpWhenStarted(this WebApplication app, string pattern)
    {
        var source = new PublishedEndpoints();
        ((IEndpointRouteBuilder)app).DataSources.Add(source);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStarted.Register(() => _ = Task.Run(() =>
        {
            try
            {
                var collector = new EndpointCollector(app);
                collector.MapMcp(pattern);
                source.Publish([.. collector.DataSources.SelectMany(d => d.Endpoints)]);
                ready.TrySetResult();
            }
            catch (Exception e)
            {
                ready.TrySetException(e);
            }
        }));

        // Matched only while the real endpoints are missing: they come first in order.
        app.Map(pattern, async context =>
        {
            await ready.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            var endpoint = source.Endpoints.OfType<RouteEndpoint>().FirstOrDefault(e =>
                e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase) ?? true);
            if (endpoint?.RequestDelegate is null)
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return;
            }

            context.SetEndpoint(endpoint);
            await endpoint.RequestDelegate(context).ConfigureAwait(false);
        }).WithOrder(int.MaxValue).ExcludeFromDescription();
    }

    /// <summary>Endpoints that appear after routing started, announced through the change token routing watches.</summary>
    private sealed class PublishedEndpoints : EndpointDataSource
    {
        private IReadOnlyList<Endpoint> _endpoints = [];
        private CancellationTokenSource _changed = new();

        public override IReadOnlyList<Endpoint> Endpoints => _endpoints;

        public override IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

        public void Publish(IReadOnlyList<Endpoint> endpoints)
        {
            _endpoints = endpoints;
            var changed = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            changed.Cancel();
        }
    }

    /// <summary>A route builder whose endpoints are collected, not served, sharing the application's services.</summary>
    private sealed class EndpointCollector(WebApplication app) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => app.Services;

        public ICollection<EndpointDataSource> DataSources { get; } = [];

        public IApplicationBuilder CreateApplicationBuilder() => ((IApplicationBuilder)app).New();
    }
}
