using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Orchestrator.Tests.Jobs;

/// <summary>
/// The orchestrator killed with SIGKILL while jobs run, then started again on the same data directory: no acknowledged
/// job or event is lost, every job runs again or ends with a stated reason, and no job runs twice at once. The
/// orchestrator is a real <c>runable serve</c> process; the agent talks to a scripted model over HTTP.
/// </summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const string AdminKey = "crash-test-admin-key-5f0c2a7e";
    private readonly string _data = Directory.CreateTempSubdirectory("runable-crash-").FullName;
    private ScriptedModelServer _model = null!;
    private ServeProcess? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _model = await ScriptedModelServer.StartAsync(Ct);

        // Every job: a slow command (where the kill lands), then a quick one, then finish; each answer follows from
        // the tool results the request already holds, so jobs running at once and jobs run again all get the same turns.
        var calls = 0;
        _model.Responder = request =>
        {
            var id = $"call_{Interlocked.Increment(ref calls)}";
            return request.Messages.Count(m => (string?)m?["role"] == "tool") switch
            {
                0 => ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "sleep 4; echo slow step done" }, id)).WithUsage(100, 10),
                1 => ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "echo quick step done" }, id)).WithUsage(200, 10),
                _ => ScriptedTurn.Calls(ScriptedToolCall.Of("finish", new { summary = "done" }, id)).WithUsage(300, 10),
            };
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await _model.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task KilledWhileJobsRun_TheRestartLosesNoJobOrEvent_AndRunsEachAgainOnce()
    {
        _server = await StartServerAsync();
        var http = _server.Client;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var submitted = await http.PostAsJsonAsync("v1/jobs", new { task = $"crash test job {i}" }, Ct);
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
            ids.Add(JsonDocument.Parse(await submitted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        }

        // Two run (the tenant's limit), one waits; the kill lands in the middle of the running ones' slow command.
        var acknowledged = new Dictionary<string, List<JsonElement>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (ids.Count(id => Events(acknowledged, id).Any(e => Type(e) == "tool_call")) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the jobs did not start their first command");
            await Task.Delay(100, Ct);
            foreach (var id in ids)
            {
                acknowledged[id] = await EventsAsync(http, id);
            }
        }

        var running = ids.Where(id => Events(acknowledged, id).Any(e => Type(e) == "tool_call")).ToList();
        await _server.KillAsync(Ct); // SIGKILL: nothing is flushed, no lease is handed back, the sandboxes die with their parent
        await _server.DisposeAsync();
        _server = await StartServerAsync();
        var restarted = _server.Client;
        var ended = new Dictionary<string, JsonElement>();
        deadline = DateTime.UtcNow.AddSeconds(90);
        while (ended.Count < ids.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"jobs still not ended after the restart: {string.Join(", ", ids.Except(ended.Keys))}");
            await Task.Delay(200, Ct);
            foreach (var id in ids.Except(ended.Keys).ToList())
            {
                var job = JsonDocument.Parse(await restarted.GetStringAsync($"v1/jobs/{id}", Ct)).RootElement;
                if (JobStatus.IsFinal(job.GetProperty("status").GetString()!))
                {
                    ended[id] = job;
                }
            }
        }

        foreach (var id in ids)
        {
            var events = await EventsAsync(restarted, id);

            // Every event acknowledged before the kill is still there, unchanged, in its place.
            var before = Events(acknowledged, id);
            Assert.True(events.Count >= before.Count, $"{id} lost events");
            for (var i = 0; i < before.Count; i++)
            {
                Assert.Equal(before[i].GetRawText(), events[i].GetRawText());
            }

            // Each job ran to its end (again, for the ones the kill interrupted) and says how it ended.
            Assert.Equal(("succeeded", "finished"), (ended[id].GetProperty("status").GetString(), ended[id].GetProperty("result").GetProperty("reason").GetString()));
            var starts = events.Where(e => Type(e) == "status" && Status(e) == "starting").Select(e => e.GetProperty("data").GetProperty("attempt").GetInt32()).ToList();
            if (running.Contains(id))
            {
                Assert.Equal([1, 2], starts);
                Assert.Equal(2, ended[id].GetProperty("attempts").GetInt32());

                // The interrupted attempt's log ends where the new one begins: the lease taken back, then attempt 2 alone.
                var lost = events.FindIndex(e => Type(e) == "status" && Status(e) == "queued" && Reason(e) == "lease_lost");
                Assert.True(lost >= before.Count, $"{id}: the lease was taken back before the kill");
                var second = events.FindIndex(e => Type(e) == "status" && Status(e) == "starting" && e.GetProperty("data").GetProperty("attempt").GetInt32() == 2);
                Assert.Equal(lost + 1, second);
                var afterRestart = events.Skip(second).ToList();
                Assert.Single(afterRestart, e => Type(e) == "status" && Status(e) == "running");
                Assert.Equal(3, afterRestart.Count(e => Type(e) == "tool_call"));
                Assert.Equal(3, afterRestart.Count(e => Type(e) == "tool_result"));
            }
            else
            {
                Assert.Equal([1], starts); // the queued job was not lost and ran once
            }

            Assert.Equal(events.Count, events.Select(e => e.GetProperty("seq").GetInt64()).Distinct().Count());
        }

        // The data directory is the running orchestrator's alone: a second one refuses to start on it.
        var (exitCode, error) = await ServeProcess.RefusalAsync(_data, AdminKey, ModelEnvironment(), Ct);
        Assert.Equal(1, exitCode);
        Assert.Contains("Another orchestrator", error, StringComparison.Ordinal);
    }

    private static List<JsonElement> Events(Dictionary<string, List<JsonElement>> acknowledged, string id) => acknowledged.GetValueOrDefault(id) ?? [];

    private static string? Type(JsonElement e) => e.GetProperty("type").GetString();

    private static string? Status(JsonElement e) => e.GetProperty("data").TryGetProperty("status", out var s) ? s.GetString() : null;

    private static string? Reason(JsonElement e) => e.GetProperty("data").TryGetProperty("reason", out var r) ? r.GetString() : null;

    private static async Task<List<JsonElement>> EventsAsync(HttpClient http, string id) =>
        [.. JsonDocument.Parse(await http.GetStringAsync($"v1/jobs/{id}/events", Ct)).RootElement.EnumerateArray()];

    private Task<ServeProcess> StartServerAsync() => ServeProcess.StartAsync(_data, AdminKey, ModelEnvironment(), Ct);

    private Dictionary<string, string> ModelEnvironment() => new()
    {
        ["RUNABLE_MODEL"] = "openai:scripted-model",
        ["OPENAI_BASE_URL"] = _model.BaseUrl.ToString(),
        ["OPENAI_API_KEY"] = "model-key",
    };
}
