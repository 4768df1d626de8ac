using Microsoft.AspNetCore.Builder;
using Runable.Orchestrator.Agents;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Orchestrator.Tests.Agents;

/// <summary>
/// A real orchestrator whose worker runs the agent, in real sandboxes, against a scripted model behind a real
/// OpenAI-compatible HTTP endpoint (its default model, <c>openai:scripted-model</c>), with a client carrying its admin key.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    private AgentHost(ScriptedModelServer model, WebApplication app, string adminKey)
    {
        Model = model;
        App = app;
        AdminKey = adminKey;
        Url = OrchestratorServer.ListeningUrls(app).First().TrimEnd('/');
        Http = new HttpClient { BaseAddress = new Uri(Url + "/") };
        Http.DefaultRequestHeaders.Add("X-API-Key", adminKey);
    }

    public ScriptedModelServer Model { get; }

    public WebApplication App { get; }

    /// <summary>The orchestrator's address, such as <c>http://127.0.0.1:40123</c>.</summary>
    public string Url { get; }

    public string AdminKey { get; }

    /// <summary>A client of the orchestrator with the admin key.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts the model and the orchestrator on <paramref name="dataDirectory"/>; the model's key is <paramref name="modelKey"/>.</summary>
    public static async Task<AgentHost> StartAsync(string dataDirectory, string modelKey = "model-key", AgentOptions? agent = null,
        CancellationToken cancellationToken = default)
    {
        var model = await ScriptedModelServer.StartAsync(cancellationToken);
        string? key = null;
        var app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = dataDirectory,
            RunableDirectory = OrchestratorFixture.RunableDirectory(),
            PoolSize = 1,
            OnAdminKeyCreated = k => key = k,
            Agent = agent ?? new AgentOptions(),
            Models = new ModelSettings
            {
                DefaultModel = "openai:scripted-model",
                OpenAI = new ModelEndpointSettings { BaseUrl = model.BaseUrl, ApiKey = modelKey },
            },
        });
        await app.StartAsync(cancellationToken);
        return new AgentHost(model, app, key ?? throw new InvalidOperationException("No admin key was created."));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.DisposeAsync();
        await Model.DisposeAsync();
    }
}
