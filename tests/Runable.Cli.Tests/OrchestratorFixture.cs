using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Hosting;
using Runable.Sandboxes;

namespace Runable.Cli.Tests;

/// <summary>A real orchestrator on a free loopback port with a fresh data directory and bubblewrap sandboxes
/// (none kept warm), for the commands that talk to one.</summary>
public sealed class OrchestratorFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runable-cli-orchestrator-").FullName;

    /// <summary>The orchestrator's URL, such as <c>http://127.0.0.1:40123</c>.</summary>
    public string Url { get; private set; } = "";

    public string AdminKey { get; private set; } = "";

    /// <summary>The environment a command sees: this orchestrator and its admin key.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["RUNABLE_SERVER"] = Url,
        ["RUNABLE_API_KEY"] = AdminKey,
    };

    public async ValueTask InitializeAsync()
    {
        _app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = DataDirectory,
            RunableDirectory = BoxProgram.Locate(),
            PoolSize = 0,
            OnAdminKeyCreated = key => AdminKey = key,

            // Jobs are queued, not run: a model where nothing listens is enough to submit them.
            Models = new Runable.Orchestrator.Models.ModelSettings
            {
                DefaultModel = "openai:queue-only",
                OpenAI = new Runable.Orchestrator.Models.ModelEndpointSettings { BaseUrl = new Uri("http://127.0.0.1:9/v1"), ApiKey = "unused" },
            },
            Jobs = new Runable.Orchestrator.Jobs.JobWorkerOptions { MaxRunning = 0 },
        }, configure: builder => builder.Logging.ClearProviders());
        await _app.StartAsync();
        Url = OrchestratorServer.ListeningUrls(_app).First().TrimEnd('/');
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
}
