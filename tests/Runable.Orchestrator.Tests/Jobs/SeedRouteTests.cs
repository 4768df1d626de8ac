using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Tests.Jobs;

/// <summary>The original single-job routes on top of jobs, and CORS for a configured browser origin.</summary>
public sealed class SeedRouteTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Schedule_Status_Proxy_AndDownload_SpeakOfTheSameJob()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var scheduled = await client.PostAsJsonAsync("schedule", new { task = "add a README" }, Ct);
        Assert.Equal(HttpStatusCode.OK, scheduled.StatusCode);
        var id = (await JsonAsync(scheduled)).GetProperty("job_id").GetString()!;

        var status = await JsonAsync(await client.GetAsync($"status/{id}", Ct));
        Assert.Equal(("queued", $"/download/{id}"), (status.GetProperty("status").GetString(), status.GetProperty("download").GetString()));
        Assert.Equal("add a README", (await JsonAsync(await client.GetAsync($"v1/jobs/{id}", Ct))).GetProperty("task").GetString());

        // No worker runs jobs in this orchestrator: the job has no sandbox to proxy to or download from yet.
        foreach (var url in new[] { $"proxy/{id}/shell/exec", $"download/{id}", $"v1/jobs/{id}/box/health" })
        {
            using var response = await client.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("job_has_no_sandbox", (await JsonAsync(response)).GetProperty("code").GetString());
        }

        using var anonymous = orchestrator.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"status/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("status/job_0000000000000000", Ct)).StatusCode);
    }

    [Fact]
    public async Task Cors_AnswersTheConfiguredOriginOnly_AndItsPreflightNeedsNoKey()
    {
        var data = Directory.CreateTempSubdirectory("runable-cors-").FullName;
        try
        {
            string? key = null;
            await using var app = OrchestratorServer.Create(new OrchestratorSettings
            {
                Port = 0, DataDirectory = data, RunableDirectory = OrchestratorFixture.RunableDirectory(), PoolSize = 0,
                OnAdminKeyCreated = k => key = k, CorsOrigins = ["http://ui.test:8080"],
                Models = OrchestratorFixture.QueueOnlyModels, Jobs = new JobWorkerOptions { MaxRunning = 0 },
            });
            await app.StartAsync(Ct);
            using var client = new HttpClient { BaseAddress = new Uri(OrchestratorServer.ListeningUrls(app).First()) };

            foreach (var (origin, allowed) in new[] { ("http://ui.test:8080", true), ("http://elsewhere.test", false) })
            {
                using var preflight = new HttpRequestMessage(HttpMethod.Options, "schedule");
                preflight.Headers.Add("Origin", origin);
                preflight.Headers.Add("Access-Control-Request-Method", "POST");
                preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key,content-type");
                using var answer = await client.SendAsync(preflight, Ct);
                Assert.Equal(allowed, answer.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "schedule") { Content = JsonContent.Create(new { task = "from the browser" }) };
            request.Headers.Add("Origin", "http://ui.test:8080");
            request.Headers.Add("X-API-Key", key);
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("http://ui.test:8080", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
}
