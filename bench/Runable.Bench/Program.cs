using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runable.Bench;
using Runable.Box.Client;
using Runable.Box.Server.Hosting;

// Box benchmarks: each figure is a ratio against a baseline measured in this same run, on this machine.
if (args is ["context-recall", .. var recallArgs]) { await ContextRecall.RunAsync(recallArgs, Path.Combine(FindRepositoryRoot(), "bench", "results")); return; }
if (args is ["context", .. var contextArgs]) { await ContextAssembly.RunAsync(FindRepositoryRoot(), contextArgs); return; }
var options = BenchOptions.Parse(args);
const int SrtRuns = 100; // runs of srt, and at least as many of the bwrap baseline next to it
var calls = options.Calls;
var repositoryRoot = FindRepositoryRoot();
var resultsDirectory = Path.Combine(repositoryRoot, "bench", "results");
Directory.CreateDirectory(resultsDirectory);

var workspace = Directory.CreateTempSubdirectory("runable-bench-").FullName;
var key = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
await using var app = BoxServer.Create(new BoxServerSettings { Port = 0, Workspace = workspace, ApiKey = key },
    configure: b => b.Logging.ClearProviders());
await app.StartAsync();
using var client = new BoxClient(new Uri(BoxServer.ListeningUrls(app).First().TrimEnd('/') + "/"), key);

Console.Error.WriteLine($"Measuring {calls} calls each (after {calls / 10} warm-up calls)...");
var comparisons = new List<Comparison>();

Console.Error.WriteLine("- POST /shell/exec {\"command\":\"true\"} vs spawning bash -c true");
var baselineSpawn = await Measurement.RunAsync("bash -c true (Process.Start, no HTTP)", calls, calls / 10, async () =>
{
    using var process = Process.Start(new ProcessStartInfo("bash", ["-c", "true"]) { UseShellExecute = false })!;
    await process.WaitForExitAsync();
});
var exec = await Measurement.RunAsync("POST /shell/exec true", calls, calls / 10, async () =>
{
    var result = await client.ExecAsync("true");
    if (result.ExitCode != 0)
    {
        throw new InvalidOperationException("exec failed");
    }
});
comparisons.Add(new Comparison("shell exec round trip", exec, baselineSpawn, "reported (the target is through the orchestrator)"));

Console.Error.WriteLine("- 4 KiB file write and read vs the same through the file system directly");
var payload = new byte[4096];
Random.Shared.NextBytes(payload);
var path = Path.Combine(workspace, "direct.bin");
var baselineFile = await Measurement.RunAsync("File.WriteAllBytes + ReadAllBytes", calls, calls / 10, async () =>
{
    await File.WriteAllBytesAsync(path, payload);
    _ = await File.ReadAllBytesAsync(path);
});
var fileRoundTrip = await Measurement.RunAsync("PUT /files + GET /files (4 KiB)", calls, calls / 10, async () =>
{
    using var put = await client.Http.PutAsync("files?path=bench.bin", new ByteArrayContent(payload));
    put.EnsureSuccessStatusCode();
    var bytes = await client.Http.GetByteArrayAsync("files?path=bench.bin");
    if (bytes.Length != payload.Length)
    {
        throw new InvalidOperationException("read back the wrong size");
    }
});
comparisons.Add(new Comparison("4 KiB file write + read", fileRoundTrip, baselineFile, "reported"));

Console.Error.WriteLine("- POST /code/exec {\"code\":\"1+1\"} on a warm context vs a raw execute_request (jupyter_client) and vs python3 -c per call");
var codeExec = await Measurement.RunAsync("POST /code/exec 1+1 (warm context)", calls, calls / 10, async () =>
{
    var result = await client.ExecCodeAsync("1+1");
    if (result.Status != "ok")
    {
        throw new InvalidOperationException("code exec failed: " + result.Stderr);
    }
});
if (await CodeBaselines.RawKernelAsync(calls) is { } rawKernel)
{
    comparisons.Add(new Comparison("code exec round trip", codeExec, rawKernel, "p50 <= 1.5x"));
}

comparisons.Add(new Comparison("code exec round trip vs a fresh python3 per call", codeExec, await CodeBaselines.PythonPerCallAsync(Math.Max(20, calls / 5)), "reported"));

Console.Error.WriteLine("- GET /desktop/screenshot (1280x800) vs xwd | xwdtopnm | pnmtopng, and an action vs spawning xdotool");
comparisons.AddRange(await DesktopBench.RunAsync(client, calls));

await app.StopAsync();
Directory.Delete(workspace, recursive: true);

DensityResult? density = null;
var runableDirectory = Runable.Sandboxes.BoxProgram.Locate();
Console.Error.WriteLine($"  (the box inside sandboxes: {runableDirectory})");
if (File.Exists("/usr/bin/bwrap"))
{
    Console.Error.WriteLine("- POST /v1/sandboxes/{id}/box/shell/exec {\"command\":\"true\"} through a real orchestrator vs spawning bash -c true");
    var roundTrips = await OrchestratorRoundTrip.RunAsync(runableDirectory, calls);
    comparisons.Insert(1, new Comparison("shell exec round trip through the orchestrator", roundTrips.ThroughOrchestrator, baselineSpawn, "p50 <= 2x"));
    comparisons.Insert(2, new Comparison("shell exec round trip, straight to the sandbox's box socket", roundTrips.Direct, baselineSpawn, "reported"));
    comparisons.Insert(3, new Comparison("shell exec through the orchestrator, one command every 300 ms", roundTrips.Spaced, roundTrips.SpacedBaseline, "reported"));

    var starts = Math.Max(10, calls / 20);
    Console.Error.WriteLine($"- sandbox create until its box answers a first exec (cold, {starts} times) vs bwrap running /bin/true");
    var state = Directory.CreateTempSubdirectory("runable-bench-sandboxes-").FullName;
    await using var backend = new Runable.Sandboxes.Bubblewrap.BubblewrapBackend(
        new Runable.Sandboxes.Bubblewrap.BubblewrapOptions { StateDirectory = state, RunableDirectory = runableDirectory },
        Microsoft.Extensions.Logging.Abstractions.NullLogger<Runable.Sandboxes.Bubblewrap.BubblewrapBackend>.Instance);
    var baselineBwrap = await BwrapBaseline.MeasureTrueAsync(Math.Max(starts, SrtRuns));
    var sandboxStart = await Measurement.RunAsync("create sandbox + first exec", starts, 1, async () =>
    {
        var sandbox = await backend.CreateAsync(new Runable.Sandboxes.SandboxSpec());
        using (var box = Connect(sandbox))
        {
            await box.ExecAsync("true");
        }

        await backend.DestroyAsync(sandbox.Id);
    });
    comparisons.Add(new Comparison("sandbox start (cold) to first exec", sandboxStart, baselineBwrap, "cold p50 <= 100 ms"));

    Console.Error.WriteLine($"- sandbox claim from the warm pool until its box answers a first exec ({starts} times)");
    await using (var pool = new Runable.Sandboxes.SandboxPool(backend, 2, Microsoft.Extensions.Logging.Abstractions.NullLogger<Runable.Sandboxes.SandboxPool>.Instance))
    {
        await pool.FillAsync();
        var warmSamples = new List<double>();
        for (var i = 0; i < starts; i++)
        {
            while (pool.ReadyCount < 2)
            {
                await Task.Delay(20);
            }

            var start = Stopwatch.GetTimestamp();
            var sandbox = await pool.ClaimAsync(new Runable.Sandboxes.SandboxSpec());
            using (var box = Connect(sandbox))
            {
                await box.ExecAsync("true");
            }

            warmSamples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            await backend.DestroyAsync(sandbox.Id);
        }

        comparisons.Add(new Comparison("sandbox claim (warm pool) to first exec", new Measurement("claim from pool + first exec", warmSamples), baselineBwrap, "warm <= 10 ms"));
    }

    Console.Error.WriteLine($"- srt (Anthropic's sandbox runtime) wrapping true ({SrtRuns} times) vs bwrap running /bin/true");
    if (await SrtBaseline.MeasureAsync(repositoryRoot, SrtRuns) is { } srt)
    {
        comparisons.Add(new Comparison("srt wrapping true (reference)", srt, baselineBwrap, "reported"));
    }

    if (options.Density > 0)
    {
        Console.Error.WriteLine($"- {options.Density} idle sandboxes up together: memory per sandbox vs bwrap running sleep infinity");
        density = await Density.RunAsync(backend, options.Density);
    }

    Directory.Delete(state, recursive: true);
}

Console.Error.WriteLine("- POST /v1/jobs (SQLite) vs GET /v1/jobs/{id}; submit until a worker starts the job; submits/s with 8 clients; leases/s");
var jobQueue = await JobThroughput.RunAsync(runableDirectory, calls);
comparisons.Add(new Comparison("job submit", jobQueue.Submit, jobQueue.Get, "submit p50 <= 10 ms"));
comparisons.Add(new Comparison("job submit until a worker starts it", jobQueue.SubmitToRunning, jobQueue.Submit, "reported"));

var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var table = new StringBuilder();
table.AppendLine($"# Box benchmarks ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {calls} calls each)");
table.AppendLine();
table.AppendLine("| what | subject p50 / p99 (ms) | baseline | baseline p50 / p99 (ms) | ratio p50 / p99 | target |");
table.AppendLine("|---|---|---|---|---|---|");
foreach (var c in comparisons)
{
    table.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"| {c.What} | {c.Subject.P50:0.000} / {c.Subject.P99:0.000} | {c.Baseline.Name} | {c.Baseline.P50:0.000} / {c.Baseline.P99:0.000} | {c.RatioP50:0.00}x / {c.RatioP99:0.00}x | {c.Target} |"));
}

table.AppendLine();
table.AppendLine(string.Create(CultureInfo.InvariantCulture,
    $"Job queue on SQLite: {jobQueue.SubmitsPerSecond:0} submits/s from 8 concurrent clients (target >= 500), {jobQueue.LeasesPerSecond:0} jobs leased and ended per second by one loop."));

if (density is not null)
{
    table.AppendLine();
    table.Append(density.ToMarkdown());
}

var markdown = table.ToString();
Console.WriteLine(markdown);
await File.WriteAllTextAsync(Path.Combine(resultsDirectory, "box.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(resultsDirectory, $"box-{stamp}.json"), JsonSerializer.Serialize(new
{
    comparisons = comparisons.Select(c => new
    {
        what = c.What,
        subject = new { name = c.Subject.Name, p50_ms = c.Subject.P50, p99_ms = c.Subject.P99, samples_ms = c.Subject.SamplesMs },
        baseline = new { name = c.Baseline.Name, p50_ms = c.Baseline.P50, p99_ms = c.Baseline.P99, samples_ms = c.Baseline.SamplesMs },
        ratio_p50 = c.RatioP50,
        ratio_p99 = c.RatioP99,
    }),
    density,
    job_queue = new { submits_per_second = jobQueue.SubmitsPerSecond, leases_per_second = jobQueue.LeasesPerSecond },
}, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
Console.Error.WriteLine($"Wrote {Path.Combine(resultsDirectory, "box.md")}");

static BoxClient Connect(Runable.Sandboxes.Sandbox sandbox) => BoxClient.ForUnixSocket(sandbox.BoxSocket, sandbox.BoxToken);

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Runable.slnx")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
