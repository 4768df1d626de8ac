using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Runable.Box.Client;
using Runable.Box.Protocol.Shell;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Sandboxes;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Orchestrator.Tests;

public sealed class SandboxApiTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("""{"limits":{"memory_mb":1}}""", "limits.memory_mb must be between 64")]
    [InlineData("""{"limits":{"cpus":0}}""", "limits.cpus must be between")]
    [InlineData("""{"network":{"mode":"everything"}}""", "Unknown network.mode 'everything'")]
    [InlineData("""{"network":{"mode":"allowlist"}}""", "needs network.allow")]
    [InlineData("""{"network":{"mode":"allowlist","allow":["10.0.0.1"]}}""", "'10.0.0.1' is not a host name")]
    [InlineData("""{"network":{"mode":"none","allow":["example.com"]}}""", "only for mode 'allowlist'")]
    [InlineData("""{"idle_timeout_s":-1}""", "idle_timeout_s must be between 0")]
    [InlineData("""{"backend":"firecracker"}""", "Unknown backend 'firecracker'")]
    [InlineData("""{"limits":{"memory_mb":"lots"}}""", "")]
    public async Task Create_WithBadInput_Answers400SayingWhatToFix(string body, string message)
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsync("v1/sandboxes", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        var problem = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(message, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithLimitsAndNetwork_ReportsThemAndEnforcesTheLimits()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes",
            new { limits = new { memory_mb = 256, pids = 64, tmp_mb = 16 }, network = new { mode = "allowlist", allow = new[] { "allowed.test" } }, idle_timeout_s = 600 }, Ct);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = json.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/sandboxes/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(256, json.GetProperty("limits").GetProperty("memory_mb").GetInt32());
        Assert.Equal("allowlist", json.GetProperty("network").GetProperty("mode").GetString());
        Assert.Equal("allowed.test", json.GetProperty("network").GetProperty("allow")[0].GetString());
        Assert.Equal(600, json.GetProperty("idle_timeout_s").GetDouble());

        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);
        var result = await box.ExecAsync("df -m /tmp | tail -1 | awk '{print $2}'; echo $HTTPS_PROXY", cancellationToken: Ct);
        Assert.Equal("16\nhttp://127.0.0.1:3128\n", result.Stdout);
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }

    [Fact]
    public async Task IdleSandbox_IsReapedAfterItsTimeout_ButNotWhileARequestRuns()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { idle_timeout_s = 1 }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);

        // A request longer than the timeout keeps the sandbox: it is busy, not idle.
        var result = await box.ExecAsync("sleep 2.5; echo still-here", cancellationToken: Ct);
        Assert.Equal("still-here\n", result.Stdout);

        var watch = Stopwatch.StartNew();
        while ((await client.GetAsync($"v1/sandboxes/{id}", Ct)).StatusCode == HttpStatusCode.OK)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the idle sandbox was not reaped");
            await Task.Delay(100, Ct);
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.5), $"reaped after only {watch.Elapsed.TotalMilliseconds} ms of idleness");
        Assert.False(orchestrator.Services.GetRequiredService<BubblewrapBackend>().IsRunning(id));
        while (!(await client.GetStringAsync("metrics", Ct)).Contains("runable_sandboxes_destroyed_total{reason=\"idle\"}", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), "the metrics do not count the reaped sandbox");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Proxy_CarriesServerSentEventsAndWebSockets()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;

        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);
        var events = new List<string>();
        await foreach (var item in box.ExecStreamAsync(new ShellExecRequest { Command = "echo one; sleep 0.2; echo two" }, Ct))
        {
            events.Add($"{item.EventType}:{item.Data}");
        }

        Assert.Contains(events, e => e.StartsWith("stdout:", StringComparison.Ordinal) && e.Contains("one", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Contains("two", StringComparison.Ordinal));

        // The terminal WebSocket, with the key in the query as a browser sends it.
        using var socket = new ClientWebSocket();
        var ws = new UriBuilder(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/terminal")) { Scheme = "ws", Query = $"api_key={orchestrator.AdminKey}&cols=100&rows=30" };
        await socket.ConnectAsync(ws.Uri, Ct);
        await socket.SendAsync("echo $((6*7)) $COLUMNS\r"u8.ToArray(), WebSocketMessageType.Text, true, Ct);
        var seen = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!seen.ToString().Contains("42 100", StringComparison.Ordinal))
        {
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            seen.Append(Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct);
        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
    }

    [Fact]
    public async Task MetricsAndDocs_NeedAKey_AndMetricsAnAdminOne()
    {
        using var anonymous = orchestrator.Client(null);
        foreach (var path in new[] { "metrics", "docs/index.html", "openapi/v1.json" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path, Ct)).StatusCode);
        }

        using var admin = orchestrator.Client(orchestrator.AdminKey);
        (await admin.GetAsync("v1/sandboxes", Ct)).EnsureSuccessStatusCode();
        var metrics = await admin.GetStringAsync("metrics", Ct);
        Assert.Contains("runable_sandboxes{state=\"running\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("runable_pool_ready", metrics, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("runable_egress_requests_total", metrics, StringComparison.Ordinal);
        var openApi = await admin.GetStringAsync("openapi/v1.json", Ct);
        Assert.Contains("/v1/sandboxes", openApi, StringComparison.Ordinal);
        Assert.Contains("idle_timeout_s", openApi, StringComparison.Ordinal);
        Assert.Contains("swagger-ui", await admin.GetStringAsync("docs/index.html", Ct), StringComparison.Ordinal);

        using var tenant = orchestrator.Client(await CreateKeyAsync("metrics-reader"));
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("metrics", Ct)).StatusCode);
    }

    [Fact]
    public async Task OversizedBody_Gets413Problem()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        var huge = "{\"name\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using var response = await client.PostAsync("v1/keys", new StringContent(huge, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task BoxToken_NeverAppearsInResponsesOrLogs()
    {
        using var client = orchestrator.Client(orchestrator.AdminKey);
        using var created = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
        var body = await created.Content.ReadAsStringAsync(Ct);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var token = orchestrator.Services.GetRequiredService<SandboxService>().Find(new Auth.Caller("k", "default", new HashSet<string>()), id).BoxToken;

        using var box = new BoxClient(new Uri(orchestrator.BaseAddress, $"v1/sandboxes/{id}/box/"), orchestrator.AdminKey);
        var env = await box.ExecAsync("env; cat /proc/self/environ | tr '\\0' '\\n'", cancellationToken: Ct);
        var responses = new[]
        {
            body, env.Stdout, env.Stderr,
            await client.GetStringAsync($"v1/sandboxes/{id}", Ct),
            await client.GetStringAsync("v1/sandboxes", Ct),
            await client.GetStringAsync($"v1/sandboxes/{id}/box/health", Ct),
            await client.GetStringAsync("metrics", Ct),
        };
        using var wrongKey = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"v1/sandboxes/{id}/box/shell/sessions"), Ct);
        foreach (var text in responses.Append(await wrongKey.Content.ReadAsStringAsync(Ct)))
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        }

        await client.DeleteAsync($"v1/sandboxes/{id}", Ct);
        Assert.DoesNotContain(orchestrator.Log, line => line.Contains(token, StringComparison.Ordinal));
        Assert.NotEmpty(orchestrator.Log);
    }

    [Fact]
    public async Task Stopping_DestroysItsSandboxes()
    {
        var data = Directory.CreateTempSubdirectory("runable-orchestrator-stop-").FullName;
        try
        {
            string? key = null;
            await using var app = OrchestratorServer.Create(new OrchestratorSettings
            {
                Port = 0, DataDirectory = data, RunableDirectory = OrchestratorFixture.RunableDirectory(), PoolSize = 1, OnAdminKeyCreated = k => key = k,
            });
            await app.StartAsync(Ct);
            using var client = new HttpClient { BaseAddress = new Uri(OrchestratorServer.ListeningUrls(app).First()) };
            client.DefaultRequestHeaders.Add("X-API-Key", key);
            using var response = await client.PostAsJsonAsync("v1/sandboxes", new { }, Ct);
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
            var pid = app.Services.GetRequiredService<BubblewrapBackend>().List().Single(s => s.Id == id).Pid;

            await app.StopAsync(Ct);

            Assert.False(Directory.Exists(Path.Combine(data, "sandboxes", id)));
            Assert.False(Directory.Exists($"/proc/{pid}"));
            Assert.Empty(Directory.GetDirectories(Path.Combine(data, "sandboxes")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private async Task<string> CreateKeyAsync(string tenant)
    {
        using var admin = orchestrator.Client(orchestrator.AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/keys", new { name = tenant, scopes = new[] { "sandboxes" }, tenant }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString()!;
    }
}
