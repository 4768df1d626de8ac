using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Hosting;

namespace Runable.Web.Tests.Components;

/// <summary>
/// A real HTTP server on loopback that serves a job's event stream the way the orchestrator does (SSE, <c>id:</c> the
/// sequence number), one planned connection at a time: each plan's events, then a dropped connection or the end of the
/// stream. It records the <c>Last-Event-ID</c> each connection asked to resume after.
/// </summary>
public sealed class EventStreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(IReadOnlyList<JsonObject> Events, bool Drop)> _plans = new();

    private EventStreamServer(WebApplication app)
    {
        _app = app;
    }

    public Uri Root { get; private set; } = null!;

    /// <summary>The <c>Last-Event-ID</c> of each connection, in order.</summary>
    public ConcurrentQueue<string> ResumedAfter { get; } = new();

    public static async Task<EventStreamServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new EventStreamServer(app);
        app.MapGet("/v1/jobs/{id}/events", server.StreamAsync);
        await app.StartAsync();
        server.Root = new Uri(OrchestratorServer.ListeningUrls(app).First().TrimEnd('/') + "/");
        return server;
    }

    /// <summary>The next connection sends <paramref name="events"/>, then drops (<paramref name="drop"/>) or ends the stream.</summary>
    public EventStreamServer Plan(bool drop, params JsonObject[] events)
    {
        _plans.Enqueue((events, drop));
        return this;
    }

    /// <summary>An event as the API writes it.</summary>
    public static JsonObject Event(long seq, string type, object data) => new()
    {
        ["seq"] = seq,
        ["type"] = type,
        ["data"] = JsonSerializer.SerializeToNode(data),
        ["created_at"] = DateTimeOffset.UnixEpoch.AddSeconds(1_750_000_000 + seq).ToString("O"),
    };

    private async Task StreamAsync(HttpContext context)
    {
        ResumedAfter.Enqueue(context.Request.Headers["Last-Event-ID"].ToString());
        if (!_plans.TryDequeue(out var plan))
        {
            context.Response.StatusCode = 503;
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var e in plan.Events)
        {
            var text = new StringBuilder()
                .Append("event: ").Append((string?)e["type"]).Append('\n')
                .Append("id: ").Append((long)e["seq"]!).Append('\n')
                .Append("data: ").Append(e.ToJsonString()).Append("\n\n");
            await context.Response.WriteAsync(text.ToString());
            await context.Response.Body.FlushAsync();
        }

        if (plan.Drop)
        {
            // Give the flushed events time to leave before the connection is cut.
            await Task.Delay(150);
            context.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
