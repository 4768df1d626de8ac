using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Models;
using Runable.Sandboxes.Network;

namespace Runable.Orchestrator.Tests;

/// <summary>
/// A real orchestrator on a free loopback port with a fresh data directory and bubblewrap sandboxes, and a web
/// server on loopback that the egress proxy's hosts file maps test names to. Every log line is kept.
/// </summary>
public sealed class OrchestratorFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private WebApplication? _web;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runable-orchestrator-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminKey { get; private set; } = "";

    public IServiceProvider Services => _app!.Services;

    /// <summary>The port of the loopback web server that answers <c>hello from HOST</c>.</summary>
    public int WebPort { get; private set; }

    /// <summary>The orchestrator's port.</summary>
    public int Port => BaseAddress.Port;

    /// <summary>Every line the orchestrator logged.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        web.Logging.ClearProviders();
        _web = web.Build();
        _web.MapGet("/", (HttpRequest request) => $"hello from {request.Host.Host}");
        _web.MapGet("/page", () => Results.Content("<!DOCTYPE html><p>a page of another origin</p>", "text/html"));
        await _web.StartAsync();
        WebPort = new Uri(OrchestratorServer.ListeningUrls(_web).First()).Port;

        var loopback = new[] { IPAddress.Loopback };
        _app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = DataDirectory,
            RunableDirectory = RunableDirectory(),
            PoolSize = 1,
            ReapInterval = TimeSpan.FromMilliseconds(200),
            OnAdminKeyCreated = key => AdminKey = key,
            Models = QueueOnlyModels,
            Jobs = new JobWorkerOptions { MaxRunning = 0 },
            Egress = new EgressOptions
            {
                Hosts = new Dictionary<string, IPAddress[]>
                {
                    ["allowed.test"] = loopback,
                    ["api.wild.test"] = loopback,
                    ["denied.test"] = loopback,
                    ["orchestrator.test"] = loopback,
                    ["private.test"] = [IPAddress.Parse("10.0.0.1")],
                    ["metadata.test"] = [IPAddress.Parse("169.254.169.254")],
                },
                TrustedAddresses = new HashSet<IPAddress> { IPAddress.Loopback },
            },
        }, configure: builder => builder.Logging.AddProvider(new QueueLoggerProvider(Log)));
        await _app.StartAsync();
        BaseAddress = new Uri(OrchestratorServer.ListeningUrls(_app).First().TrimEnd('/') + "/");
    }

    /// <summary>An HTTP client carrying <paramref name="key"/>.</summary>
    public HttpClient Client(string? key) => Client(BaseAddress, key);

    /// <summary>An HTTP client of the orchestrator at <paramref name="baseAddress"/> carrying <paramref name="key"/>.</summary>
    public static HttpClient Client(Uri baseAddress, string? key)
    {
        var http = new HttpClient { BaseAddress = baseAddress };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("X-API-Key", key);
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_web is not null)
        {
            await _web.DisposeAsync();
        }

        Directory.Delete(DataDirectory, recursive: true);
    }

    /// <summary>The directory of the runable-box program the sandboxes run.</summary>
    /// <summary>
    /// A model configured at an address where nothing listens: enough to submit jobs, for orchestrators that only queue
    /// them (<c>Jobs.MaxRunning = 0</c>). Tests of running jobs start a scripted model of their own.
    /// </summary>
    public static ModelSettings QueueOnlyModels { get; } = new()
    {
        DefaultModel = "openai:queue-only",
        OpenAI = new ModelEndpointSettings { BaseUrl = new Uri("http://127.0.0.1:9/v1"), ApiKey = "unused" },
    };

    public static string RunableDirectory() => Runable.Sandboxes.BoxProgram.Locate();

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class QueueLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
