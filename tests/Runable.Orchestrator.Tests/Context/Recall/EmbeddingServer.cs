using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>
/// A real HTTP server on 127.0.0.1 that answers OpenAI's <c>POST /v1/embeddings</c> (floats or base64, as asked) with the
/// vectors of a <see cref="ConceptEmbeddingGenerator"/>, and records the model and key of every request.
/// </summary>
public sealed class EmbeddingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConceptEmbeddingGenerator _vectors = new();
    private readonly List<(string Model, string? Authorization, int Inputs)> _requests = [];

    private EmbeddingServer(WebApplication app) => _app = app;

    /// <summary>The OpenAI-compatible base URL, <c>http://127.0.0.1:port/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request so far: the model asked for, the Authorization header, and how many texts it held.</summary>
    public IReadOnlyList<(string Model, string? Authorization, int Inputs)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<EmbeddingServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new EmbeddingServer(app);
        app.MapPost("/v1/embeddings", server.EmbeddingsAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
        var input = body["input"] is JsonArray array ? array.Select(i => i!.GetValue<string>()).ToList() : [body["input"]!.GetValue<string>()];
        var base64 = (string?)body["encoding_format"] == "base64";
        lock (_requests)
        {
            _requests.Add(((string)body["model"]!, context.Request.Headers.Authorization, input.Count));
        }

        var vectors = await _vectors.GenerateAsync(input, cancellationToken: context.RequestAborted);
        var data = new JsonArray();
        for (var i = 0; i < vectors.Count; i++)
        {
            var values = vectors[i].Vector.ToArray();
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(values.AsSpan())) : new JsonArray([.. values.Select(v => (JsonNode?)v)]),
            });
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = (string)body["model"]!,
            ["usage"] = new JsonObject { ["prompt_tokens"] = input.Sum(t => t.Length / 4), ["total_tokens"] = input.Sum(t => t.Length / 4) },
        }.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _vectors.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
