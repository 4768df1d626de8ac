using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Runable.Box.Client;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Workspaces;

namespace Runable.Orchestrator.Tests.Workspaces;

/// <summary>
/// A real orchestrator (keys, tenancy, bubblewrap sandboxes, the workspace services and upload routes) that queues jobs
/// but runs none; uploads are capped at <see cref="MaxUploadBytes"/> and file:// git sources are allowed.
/// </summary>
public sealed class WorkspaceFixture : IAsyncLifetime
{
    public const long MaxUploadBytes = 256 * 1024;

    private WebApplication? _app;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runable-workspaces-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminKey { get; private set; } = "";

    public IServiceProvider Services => _app!.Services;

    public async ValueTask InitializeAsync()
    {
        _app = OrchestratorServer.Create(new OrchestratorSettings
        {
            Port = 0,
            DataDirectory = DataDirectory,
            RunableDirectory = OrchestratorFixture.RunableDirectory(),
            PoolSize = 1,
            OnAdminKeyCreated = key => AdminKey = key,
            Models = OrchestratorFixture.QueueOnlyModels,
            Jobs = new JobWorkerOptions { MaxRunning = 0 },
            Workspaces = new WorkspaceOptions
            {
                MaxUploadBytes = MaxUploadBytes,
                GitSchemes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "https", "file" },
                GitCloneTimeout = TimeSpan.FromSeconds(30),
                SandboxGitTimeout = TimeSpan.FromSeconds(30),
            },
        }, configure: builder => builder.Logging.ClearProviders());
        await _app.StartAsync();
        BaseAddress = new Uri(OrchestratorServer.ListeningUrls(_app).First().TrimEnd('/') + "/");
    }

    public HttpClient Client(string? key) => OrchestratorFixture.Client(BaseAddress, key);

    /// <summary>A key of another tenant with the jobs scopes.</summary>
    public async Task<string> TenantKeyAsync(string tenant, CancellationToken cancellationToken)
    {
        using var admin = Client(AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/keys", new { name = "t", tenant, scopes = new[] { "jobs:read", "jobs:write", "sandboxes" } }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>A new sandbox of the admin's tenant and a client of its box through the orchestrator; disposing deletes the sandbox.</summary>
    public async Task<Sandbox> SandboxAsync(CancellationToken cancellationToken)
    {
        using var admin = Client(AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/sandboxes", new { }, cancellationToken);
        response.EnsureSuccessStatusCode();
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("id").GetString()!;
        return new Sandbox(this, id, new BoxClient(new Uri(BaseAddress, $"v1/sandboxes/{id}/box/"), AdminKey));
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

    public sealed class Sandbox(WorkspaceFixture fixture, string id, BoxClient box) : IAsyncDisposable
    {
        public string Id => id;

        public BoxClient Box => box;

        /// <summary>Runs a command in the workspace and returns its standard output; a failure fails the test.</summary>
        public async Task<string> RunAsync(string command, CancellationToken cancellationToken)
        {
            var result = await box.ExecAsync(command, 30, cancellationToken: cancellationToken);
            Assert.True(result.ExitCode == 0, $"'{command}' exited {result.ExitCode}: {result.Stderr}");
            return result.Stdout;
        }

        public async ValueTask DisposeAsync()
        {
            box.Dispose();
            using var admin = fixture.Client(fixture.AdminKey);
            await admin.DeleteAsync($"v1/sandboxes/{id}");
        }
    }
}
