using Microsoft.AspNetCore.Builder;
using Runable.Orchestrator.Hosting;

namespace Runable.Orchestrator.Tests;

/// <summary>A real orchestrator on a free loopback port with a fresh data directory and bubblewrap sandboxes.</summary>
public sealed class OrchestratorFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runable-orchestrator-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminKey { get; private set; } = "";

    public IServiceProvider Services => _app!.Services;

    public async ValueTask InitializeAsync()
    {
        _app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = DataDirectory,
            RunableDirectory = RunableDirectory(),
            PoolSize = 1,
            OnAdminKeyCreated = key => AdminKey = key,
        });
        await _app.StartAsync();
        BaseAddress = new Uri(OrchestratorServer.ListeningUrls(_app).First().TrimEnd('/') + "/");
    }

    /// <summary>An HTTP client carrying <paramref name="key"/>.</summary>
    public HttpClient Client(string? key)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
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

        Directory.Delete(DataDirectory, recursive: true);
    }

    /// <summary>The directory of the runable-box program the sandboxes run.</summary>
    public static string RunableDirectory() => Runable.Sandboxes.BoxProgram.Locate();
}
