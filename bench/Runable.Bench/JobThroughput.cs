using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Hosting;
using Runable.Orchestrator.Jobs;

namespace Runable.Bench;

/// <summary>
/// The job queue on SQLite through a real orchestrator: <c>POST /v1/jobs</c> latency against the server's
/// cheapest authenticated round trip (<c>GET /v1/jobs/{id}</c>), submits per second from 8 concurrent clients,
/// how long a submitted job waits until a worker starts it, and jobs leased and ended per second. The runner here only notes
/// when each job started: what is measured is the queue, not an agent.
/// </summary>
public static class JobThroughput
{
    public sealed record Result(Measurement Submit, Measurement Get, Measurement SubmitToRunning, double SubmitsPerSecond, double LeasesPerSecond);

    public static async Task<Result> RunAsync(string runableDirectory, int calls)
    {
        var data = Directory.CreateTempSubdirectory("runable-bench-jobs-").FullName;
        string? key = null;
        var runner = new StartRecorder();
        try
        {
            await using var app = OrchestratorServer.Create(new OrchestratorSettings
            {
                Port = 0,
                DataDirectory = data,
                RunableDirectory = runableDirectory,
                PoolSize = 0,
                OnAdminKeyCreated = k => key = k,
                Jobs = new JobWorkerOptions { MaxRunning = 64, MaxRunningPerTenant = 64 },
                Models = new Runable.Orchestrator.Models.ModelSettings
                {
                    DefaultModel = "openai:bench",
                    OpenAI = new Runable.Orchestrator.Models.ModelEndpointSettings { BaseUrl = new Uri("http://127.0.0.1:9/v1"), ApiKey = "unused" },
                },
            }, configure: b =>
            {
                b.Logging.ClearProviders();
                b.Services.AddSingleton<IJobRunner>(runner);
            });
            await app.StartAsync();
            var baseUrl = OrchestratorServer.ListeningUrls(app).First().TrimEnd('/');
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            http.DefaultRequestHeaders.Add("X-API-Key", key ?? throw new InvalidOperationException("No admin key was created."));

            // Latency: one client, one job at a time; each job is started by the worker and finishes at once.
            var lastId = "";
            var submitToRunning = new List<double>();
            var submit = await Measurement.RunAsync("POST /v1/jobs", calls, calls / 10, async () =>
            {
                var sent = Stopwatch.GetTimestamp();
                lastId = await SubmitAsync(http);
                submitToRunning.Add(Stopwatch.GetElapsedTime(sent, await runner.StartedAsync(lastId)).TotalMilliseconds);
            });
            var get = await Measurement.RunAsync("GET /v1/jobs/{id}", calls, calls / 10, async () =>
            {
                using var response = await http.GetAsync($"/v1/jobs/{lastId}");
                response.EnsureSuccessStatusCode();
            });

            // Throughput: 8 clients submitting together (the worker keeps taking them meanwhile).
            var total = Math.Max(1000, calls * 2);
            var next = 0;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= total)
                {
                    await SubmitAsync(http);
                }
            })));
            var submitsPerSecond = total / watch.Elapsed.TotalSeconds;

            // Leases: a store of queued jobs drained by one loop.
            var store = app.Services.GetRequiredService<IJobStore>();
            await app.StopAsync();
            var leased = 0;
            var now = DateTimeOffset.UtcNow;
            var jobs = app.Services.GetRequiredService<JobService>();
            var admin = new Runable.Orchestrator.Auth.Caller("bench", "bench", new HashSet<string> { "admin" });
            for (var i = 0; i < total; i++)
            {
                await jobs.SubmitAsync(admin, new SubmitJobRequest { Task = "bench" }, null);
            }

            // As a worker does it: lease the next job (within limits of 64 running), and end it.
            watch.Restart();
            while (await store.LeaseAsync("bench-worker", now, now.AddHours(1), 64, 64) is { } job)
            {
                await store.FinishAsync(job.Id, job.LeaseOwner!, JobStatus.Succeeded, now, null, "finished", null);
                leased++;
            }

            var leasesPerSecond = leased / watch.Elapsed.TotalSeconds;
            return new Result(submit, get, new Measurement("POST /v1/jobs until the worker starts the job", submitToRunning), submitsPerSecond, leasesPerSecond);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<string> SubmitAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/v1/jobs", new { task = "Fix the failing test in calc.py", labels = new[] { "bench" } });
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return document.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Notes when each job started and ends it at once.</summary>
    private sealed class StartRecorder : IJobRunner
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _started = new();

        public Task<JobOutcome> RunAsync(JobRun run, CancellationToken cancellationToken)
        {
            Started(run.Job.Id).TrySetResult(Stopwatch.GetTimestamp());
            return Task.FromResult(JobOutcome.Succeeded("started"));
        }

        public Task<long> StartedAsync(string id) => Started(id).Task.WaitAsync(TimeSpan.FromSeconds(30));

        private TaskCompletionSource<long> Started(string id) =>
            _started.GetOrAdd(id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
