using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Orchestrator.Tests.Agents;

/// <summary>
/// Jobs end to end: a real orchestrator whose worker runs the agent loop against a scripted model behind a real
/// OpenAI-compatible HTTP endpoint, in a real sandbox, on an uploaded repository with a bug.
/// </summary>
public sealed class AgentJobTests : IAsyncLifetime
{
    private const string Buggy = "def add(a, b):\n    return a - b\n";
    private const string Test = "from calc import add\nassert add(2, 3) == 5, 'add is broken'\nprint('tests pass')\n";
    private readonly string _data = Directory.CreateTempSubdirectory("runable-agent-").FullName;
    private AgentHost _host = null!;
    private ScriptedModelServer _model = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _host = await AgentHost.StartAsync(_data, "model-key-kept-in-the-orchestrator", cancellationToken: Ct);
        (_model, _http) = (_host.Model, _host.Http);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task ABugFixJob_RunsTheAgentInASandbox_AndLeavesAFixingDiffAndItsTrajectory()
    {
        _model.Enqueue(
            ScriptedTurn.Calls(
                ScriptedToolCall.Of("bash", new { command = "cat calc.py && python3 test_calc.py" }, "call_look"),
                ScriptedToolCall.Of("str_replace_based_edit_tool", new { command = "view", path = "calc.py" }, "call_view")).WithUsage(1000, 50),
            ScriptedTurn.Calls(ScriptedToolCall.Of("str_replace_based_edit_tool",
                new { command = "str_replace", path = "calc.py", old_str = "return a - b", new_str = "return a + b" }, "call_fix")).WithUsage(1500, 40),
            ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "python3 test_calc.py" }, "call_test")).WithUsage(1700, 30),
            ScriptedTurn.Calls(ScriptedToolCall.Of("finish", new { summary = "add() subtracted; it adds now and test_calc.py passes" }, "call_done")).WithUsage(1800, 20));

        using var upload = new ByteArrayContent(Repository());
        upload.Headers.ContentType = new("application/gzip");
        using var uploaded = await _http.PostAsync("v1/uploads", upload, Ct);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var archive = (await JsonAsync(uploaded)).GetProperty("archive_id").GetString();

        using var submitted = await _http.PostAsJsonAsync("v1/jobs", new { task = "The test in test_calc.py fails. Fix calc.py.", workspace = new { archive_id = archive } }, Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = (await JsonAsync(submitted)).GetProperty("id").GetString()!;
        var job = await WaitForEndAsync(id);

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("add() subtracted; it adds now and test_calc.py passes", job.GetProperty("result").GetProperty("summary").GetString());
        var usage = job.GetProperty("usage");
        Assert.Equal((4, 6000L, 140L), (usage.GetProperty("steps").GetInt32(), usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()));

        // The log: every step before its calls, every call followed by its result, in order.
        var events = (await JsonAsync(await _http.GetAsync($"v1/jobs/{id}/events", Ct))).EnumerateArray().ToList();
        var calls = events.Where(e => e.GetProperty("type").GetString() is "tool_call" or "tool_result")
            .Select(e => $"{e.GetProperty("type").GetString()}:{e.GetProperty("data").GetProperty("id").GetString()}").ToList();
        Assert.Equal(5, calls.Count(c => c.StartsWith("tool_call:", StringComparison.Ordinal)));
        foreach (var call in new[] { "call_look", "call_view", "call_fix", "call_test", "call_done" })
        {
            Assert.True(calls.IndexOf($"tool_call:{call}") < calls.IndexOf($"tool_result:{call}"), $"{call}'s result came before its call");
        }

        var testRun = events.Last(e => e.GetProperty("type").GetString() == "tool_result" && e.GetProperty("data").GetProperty("id").GetString() == "call_test");
        Assert.Contains("tests pass", testRun.GetProperty("data").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(["queued", "starting", "running", "succeeded"],
            events.Where(e => e.GetProperty("type").GetString() == "status").Select(e => e.GetProperty("data").GetProperty("status").GetString()));

        // The model saw the tools, and each result under its call's id; the key stayed in the orchestrator.
        Assert.Equal(4, _model.Requests.Count);
        Assert.Contains("str_replace_based_edit_tool", _model.Requests[0].ToolNames);
        var toolMessages = _model.Requests[1].Messages.Where(m => (string?)m?["role"] == "tool").Select(m => (string?)m!["tool_call_id"]).ToList();
        Assert.Equal(["call_look", "call_view"], toolMessages);
        Assert.Equal("Bearer model-key-kept-in-the-orchestrator", _model.Requests[0].Authorization);

        var diff = await _http.GetStringAsync($"v1/jobs/{id}/artifacts/diff.patch", Ct);
        Assert.Contains("-    return a - b", diff, StringComparison.Ordinal);
        Assert.Contains("+    return a + b", diff, StringComparison.Ordinal);
        Assert.DoesNotContain("__pycache__", diff, StringComparison.Ordinal); // python3 ran in the workspace: no bytecode left there
        var trajectory = (await _http.GetStringAsync($"v1/jobs/{id}/artifacts/trajectory.jsonl", Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The trajectory is the run, saved as it ends: every event but the final status the worker records after it.
        Assert.Equal(events.Count - 1, trajectory.Length);
        Assert.Equal(events[^2].GetProperty("seq").GetInt64(), JsonDocument.Parse(trajectory[^1]).RootElement.GetProperty("seq").GetInt64());
        using var workspace = await _http.GetAsync($"download/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, workspace.StatusCode);
        Assert.Contains("return a + b", FileInArchive(await workspace.Content.ReadAsByteArrayAsync(Ct), "calc.py"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScheduledJob_ThatTheModelAnswers_EndsWithTheAnswer_AndNoModelMeansAClearRefusal()
    {
        _model.Enqueue(ScriptedTurn.Reply("There is nothing to change: the workspace is empty.").WithUsage(300, 12));
        using var scheduled = await _http.PostAsJsonAsync("schedule", new { task = "Is there anything to fix?" }, Ct);
        var id = (await JsonAsync(scheduled)).GetProperty("job_id").GetString()!;
        var job = await WaitForEndAsync(id);
        Assert.Equal(("succeeded", "answered"), (job.GetProperty("status").GetString(), job.GetProperty("result").GetProperty("reason").GetString()));
        Assert.Equal("succeeded", (await JsonAsync(await _http.GetAsync($"status/{id}", Ct))).GetProperty("status").GetString());

        using var unknown = await _http.PostAsJsonAsync("v1/jobs", new { task = "x", model = "anthropic:claude-sonnet-4-5" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("ANTHROPIC_API_KEY", (await JsonAsync(unknown)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxSteps_EndsTheJob_AndCancelStopsAStepMidway_WithTheArtifactsSaved()
    {
        // The step also looks for the model's key everywhere a sandbox could see it: environment and command lines.
        _model.Enqueue(ScriptedTurn.Calls(ScriptedToolCall.Of("bash",
            new { command = "echo one > one.txt; { env; for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done; } 2>/dev/null | grep -c 'model-key-kept-in-the-orc[h]estrator'; ls /proc | grep -c '^[0-9]'; echo token=$API_TOKEN" }, "call_one")));
        using var limited = await _http.PostAsJsonAsync("v1/jobs", new
        {
            task = "Write files.", limits = new { max_steps = 1 }, env = new Dictionary<string, string> { ["API_TOKEN"] = "s3cr3t-token-value" },
        }, Ct);
        var limitedJob = await WaitForEndAsync((await JsonAsync(limited)).GetProperty("id").GetString()!);
        Assert.Equal(("failed", "max_steps"), (limitedJob.GetProperty("status").GetString(), limitedJob.GetProperty("result").GetProperty("reason").GetString()));
        var looked = (await JsonAsync(await _http.GetAsync($"v1/jobs/{limitedJob.GetProperty("id").GetString()}/events", Ct))).EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "tool_result").GetProperty("data").GetProperty("text").GetString()!;
        var counts = looked.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(counts.Length >= 2 && counts[0] == "0" && int.Parse(counts[1], System.Globalization.CultureInfo.InvariantCulture) >= 3,
            $"the key was found, or too few processes were searched: {looked}");

        // The job's env reached its commands, and its secret values are masked in the events.
        Assert.Contains("token=***", looked, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-token-value", await _http.GetStringAsync($"v1/jobs/{limitedJob.GetProperty("id").GetString()}/events", Ct), StringComparison.Ordinal);
        Assert.Contains("one.txt", await _http.GetStringAsync($"v1/jobs/{limitedJob.GetProperty("id").GetString()}/artifacts/diff.patch", Ct), StringComparison.Ordinal);

        // A step that hangs: the cancel stops it at once rather than after the tool's own timeout.
        _model.Enqueue(ScriptedTurn.Calls(ScriptedToolCall.Of("bash", new { command = "echo started > started.txt; sleep 120" }, "call_hang")));
        using var hanging = await _http.PostAsJsonAsync("v1/jobs", new { task = "Wait." }, Ct);
        var id = (await JsonAsync(hanging)).GetProperty("id").GetString()!;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!(await JsonAsync(await _http.GetAsync($"v1/jobs/{id}/events", Ct))).EnumerateArray().Any(e => e.GetProperty("type").GetString() == "tool_call"))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the hanging call never started");
            await Task.Delay(100, Ct);
        }

        await Task.Delay(500, Ct);
        watch.Restart();
        using var cancel = await _http.PostAsync($"v1/jobs/{id}/cancel", null, Ct);
        var cancelled = await WaitForEndAsync(id);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the cancel took {watch.Elapsed.TotalSeconds:0} s");
        Assert.Contains("started.txt", await _http.GetStringAsync($"v1/jobs/{id}/artifacts/diff.patch", Ct), StringComparison.Ordinal);
    }

    private async Task<JsonElement> WaitForEndAsync(string id)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var job = await JsonAsync(await _http.GetAsync($"v1/jobs/{id}", Ct));
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled" or "timed_out")
            {
                return job;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"job {id} is still {job.GetProperty("status").GetString()}");
            await Task.Delay(100, Ct);
        }
    }

    private static byte[] Repository()
    {
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(zip))
        {
            foreach (var (name, text) in new[] { ("calc.py", Buggy), ("test_calc.py", Test) })
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
            }
        }

        return gz.ToArray();
    }

    private static string FileInArchive(byte[] targz, string name)
    {
        using var tar = new TarReader(new GZipStream(new MemoryStream(targz), CompressionMode.Decompress));
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == name && entry.DataStream is { } data)
            {
                return new StreamReader(data).ReadToEnd();
            }
        }

        return "";
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
}
