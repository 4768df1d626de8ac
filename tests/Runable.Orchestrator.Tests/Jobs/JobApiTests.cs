using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Runable.Orchestrator.Tests.Jobs;

/// <summary>The jobs routes through a real orchestrator: submit, idempotency, validation, scopes, tenancy, paging, cancel, messages, events.</summary>
public sealed class JobApiTests(OrchestratorFixture orchestrator) : IClassFixture<OrchestratorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Submit_QueuesTheJob_AndAnIdempotentRetryGetsTheSameOne()
    {
        using var client = orchestrator.Client(await KeyAsync("jobs-a", "jobs:write", "jobs:read"));
        var body = new { task = "Fix the failing test in calc.py", labels = new[] { "ci" }, limits = new { max_steps = 20 } };
        using var first = await PostAsync(client, "v1/jobs", body, idempotencyKey: "retry-1");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var job = await JsonAsync(first);
        var id = job.GetProperty("id").GetString()!;
        Assert.StartsWith("job_", id, StringComparison.Ordinal);
        Assert.Equal("queued", job.GetProperty("status").GetString());
        Assert.Equal($"/v1/jobs/{id}", first.Headers.Location!.OriginalString);
        Assert.Equal(0, job.GetProperty("usage").GetProperty("steps").GetInt32());

        using var retry = await PostAsync(client, "v1/jobs", body, idempotencyKey: "retry-1");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(id, (await JsonAsync(retry)).GetProperty("id").GetString());

        using var reused = await PostAsync(client, "v1/jobs", new { task = "something else" }, idempotencyKey: "retry-1");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Equal("idempotency_key_reused", (await JsonAsync(reused)).GetProperty("code").GetString());

        var got = await JsonAsync(await client.GetAsync($"v1/jobs/{id}", Ct));
        Assert.Equal("Fix the failing test in calc.py", got.GetProperty("task").GetString());
        Assert.Equal("ci", got.GetProperty("labels")[0].GetString());
    }

    [Fact]
    public async Task BadRequests_SayWhatToFix_AndScopesAndTenantsAreKept()
    {
        var writer = await KeyAsync("jobs-b", "jobs:write", "jobs:read");
        using var client = orchestrator.Client(writer);
        foreach (var (body, expected) in new (object Body, string Detail)[]
        {
            (new { }, "'task' is required"),
            (new { task = "x", limits = new { max_steps = 0 } }, "limits.max_steps"),
            (new { task = "x", workspace = new { git_url = "https://example.org/r.git", archive_id = "upl_1" } }, "one source"),
            (new { task = "x", network = new { mode = "sideways" } }, "network.mode"),
            (new { task = "x", env = new Dictionary<string, string> { ["1BAD"] = "v" } }, "env '1BAD'"),
            (new { task = "x", env = new Dictionary<string, string?> { ["EMPTY"] = null } }, "env 'EMPTY'"),
            (new { task = "x", labels = new string?[] { null } }, "'labels'"),
        })
        {
            using var response = await PostAsync(client, "v1/jobs", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var created = await PostAsync(client, "v1/jobs", new { task = "mine" });
        var id = (await JsonAsync(created)).GetProperty("id").GetString()!;

        // A key of another tenant sees nothing of it; a key without jobs scopes may not even ask.
        using var stranger = orchestrator.Client(await KeyAsync("jobs-c", "jobs:write", "jobs:read"));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"v1/jobs/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"v1/jobs/{id}/events", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"v1/jobs/{id}/cancel", null, Ct)).StatusCode);
        Assert.Empty((await JsonAsync(await stranger.GetAsync("v1/jobs", Ct))).GetProperty("items").EnumerateArray());

        using var sandboxesOnly = orchestrator.Client(await KeyAsync("jobs-b", "sandboxes"));
        Assert.Equal(HttpStatusCode.Forbidden, (await sandboxesOnly.GetAsync("v1/jobs", Ct)).StatusCode);
        using var readOnly = orchestrator.Client(await KeyAsync("jobs-b", "jobs:read"));
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync($"v1/jobs/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(readOnly, "v1/jobs", new { task = "no" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsync($"v1/jobs/{id}/cancel", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task List_PagesWithACursor_AndFilters()
    {
        using var client = orchestrator.Client(await KeyAsync("jobs-d", "jobs:write", "jobs:read"));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await JsonAsync(await PostAsync(client, "v1/jobs", new { task = $"task {i}", labels = new[] { i < 2 ? "first" : "later" } }))).GetProperty("id").GetString()!);
        }

        var seen = new List<string>();
        var url = "v1/jobs?limit=2";
        while (true)
        {
            var page = await JsonAsync(await client.GetAsync(url, Ct));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!));
            if (!page.TryGetProperty("next_cursor", out var next))
            {
                break;
            }

            url = $"v1/jobs?limit=2&cursor={Uri.EscapeDataString(next.GetString()!)}";
        }

        Assert.Equal(Enumerable.Reverse(ids), seen);
        Assert.Equal(2, (await JsonAsync(await client.GetAsync("v1/jobs?label=first", Ct))).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("v1/jobs?status=sleeping", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("v1/jobs?limit=0", Ct)).StatusCode);
    }

    [Fact]
    public async Task Events_AsJsonAndAsALiveStream_ResumeFromLastEventId_AndEndWithTheJob()
    {
        using var client = orchestrator.Client(await KeyAsync("jobs-e", "jobs:write", "jobs:read"));
        var id = (await JsonAsync(await PostAsync(client, "v1/jobs", new { task = "watch me" }))).GetProperty("id").GetString()!;
        using var message = await PostAsync(client, $"v1/jobs/{id}/messages", new { text = "also update the README" });
        Assert.Equal(HttpStatusCode.Accepted, message.StatusCode);
        Assert.Equal(2, (await JsonAsync(message)).GetProperty("seq").GetInt64());

        var events = await JsonAsync(await client.GetAsync($"v1/jobs/{id}/events", Ct));
        Assert.Equal(["status", "message"], events.EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.Equal("queued", events[0].GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("also update the README", events[1].GetProperty("data").GetProperty("text").GetString());
        Assert.Single((await JsonAsync(await client.GetAsync($"v1/jobs/{id}/events?after=1", Ct))).EnumerateArray());

        // A live stream from after the first event: the message, then the cancellation, then the end of the stream.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/jobs/{id}/events");
        request.Headers.Add("Accept", "text/event-stream");
        request.Headers.Add("Last-Event-ID", "1");
        using var stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType!.MediaType);
        var received = new List<SseItem<string>>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in SseParser.Create(await stream.Content.ReadAsStreamAsync(Ct)).EnumerateAsync(Ct))
            {
                received.Add(item);
            }
        }, Ct);

        await Task.Delay(300, Ct); // the stream is waiting for more
        Assert.False(reading.IsCompleted, "the stream ended while the job was still queued");
        using var cancelled = await client.PostAsync($"v1/jobs/{id}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        Assert.Equal("cancelled", (await JsonAsync(cancelled)).GetProperty("status").GetString());
        await reading.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(["2", "3"], received.Select(e => e.EventId));
        Assert.Equal(["message", "status"], received.Select(e => e.EventType));
        var last = JsonDocument.Parse(received[1].Data).RootElement;
        Assert.Equal(("cancelled", 3L), (last.GetProperty("data").GetProperty("status").GetString(), last.GetProperty("seq").GetInt64()));

        // Asking again changes nothing: no second event.
        using var again = await client.PostAsync($"v1/jobs/{id}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(3, (await JsonAsync(await client.GetAsync($"v1/jobs/{id}/events", Ct))).GetArrayLength());

        // A finished job takes no messages.
        using var late = await PostAsync(client, $"v1/jobs/{id}/messages", new { text = "too late" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    private async Task<string> KeyAsync(string tenant, params string[] scopes)
    {
        using var admin = orchestrator.Client(orchestrator.AdminKey);
        using var response = await admin.PostAsJsonAsync("v1/keys", new { name = tenant, scopes, tenant }, Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("key").GetString()!;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
}
