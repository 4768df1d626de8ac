using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runable.Box.Client;
using Microsoft.Extensions.DependencyInjection;
using Runable.Orchestrator.Hosting;
using Runable.Sandboxes;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Bench;

/// <summary>
/// The shell round trip as a caller sees it: a real orchestrator in this process, one sandbox created through its
/// API, and <c>POST /v1/sandboxes/{id}/box/shell/exec</c> through its proxy to the box in the sandbox; and, to
/// see what the proxy adds, the same exec straight to that sandbox's box on its unix socket.
/// </summary>
public static class OrchestratorRoundTrip
{
    /// <summary>
    /// The measurements; <c>Spaced</c> and <c>SpacedBaseline</c> are single commands a few hundred milliseconds apart, as
    /// an agent sends them (the kernel's per-command costs, such as moving a process between cgroups, show there and
    /// hide in a back-to-back loop).
    /// </summary>
    public sealed record Result(Measurement Direct, Measurement ThroughOrchestrator, Measurement Spaced, Measurement SpacedBaseline);

    /// <summary>The pause between the spaced commands.</summary>
    public static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(300);

    public static async Task<Result> RunAsync(string runableDirectory, int calls)
    {
        var data = Directory.CreateTempSubdirectory("runable-bench-orchestrator-").FullName;
        string? key = null;
        try
        {
            await using var app = OrchestratorServer.Create(new OrchestratorSettings
            {
                Port = 0,
                DataDirectory = data,
                RunableDirectory = runableDirectory,
                PoolSize = 1,
                OnAdminKeyCreated = k => key = k,
            }, configure: b => b.Logging.ClearProviders());
            await app.StartAsync();
            try
            {
                var baseUrl = OrchestratorServer.ListeningUrls(app).First().TrimEnd('/');
                using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
                http.DefaultRequestHeaders.Add("X-API-Key", key ?? throw new InvalidOperationException("No admin key was created."));
                var id = await CreateSandboxAsync(http);

                // The claim emptied the pool: let it start its next sandbox before timing, not during.
                var pool = app.Services.GetRequiredService<SandboxPool>();
                for (var wait = 0; wait < 300 && pool.ReadyCount < 1; wait++)
                {
                    await Task.Delay(100);
                }

                var sandbox = app.Services.GetRequiredService<BubblewrapBackend>().List().Single(s => s.Id == id);
                using var direct = BoxClient.ForUnixSocket(sandbox.BoxSocket, sandbox.BoxToken);
                var straight = await TimeExecAsync("POST /shell/exec true on the box's unix socket", direct, calls);
                using var proxied = new BoxClient(new Uri($"{baseUrl}/v1/sandboxes/{id}/box/"), key);
                var through = await TimeExecAsync("POST /v1/sandboxes/{id}/box/shell/exec true", proxied, calls);
                var spacedCalls = Math.Clamp(calls / 10, 20, 60);
                var spaced = await SpacedAsync("the same, one every 300 ms", spacedCalls, async () =>
                {
                    if ((await proxied.ExecAsync("true")).ExitCode != 0)
                    {
                        throw new InvalidOperationException("a spaced exec failed");
                    }
                });
                var spacedBaseline = await SpacedAsync("bash -c true, one every 300 ms", spacedCalls, async () =>
                {
                    using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", ["-c", "true"]) { UseShellExecute = false })!;
                    await process.WaitForExitAsync();
                });
                using var deleted = await http.DeleteAsync($"/v1/sandboxes/{id}");
                deleted.EnsureSuccessStatusCode();
                return new Result(straight, through, spaced, spacedBaseline);
            }
            finally
            {
                await app.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<Measurement> SpacedAsync(string name, int count, Func<Task> operation)
    {
        var samples = new List<double>();
        for (var i = 0; i < count; i++)
        {
            await Task.Delay(Spacing);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await operation();
            samples.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return new Measurement(name, samples);
    }

    private static Task<Measurement> TimeExecAsync(string name, BoxClient client, int calls) =>
        Measurement.RunAsync(name, calls, calls / 10, async () =>
        {
            var result = await client.ExecAsync("true");
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"{name} failed");
            }
        });

    private static async Task<string> CreateSandboxAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/v1/sandboxes", new { });
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"POST /v1/sandboxes answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetString() ?? throw new InvalidOperationException("The new sandbox has no id.");
    }
}
