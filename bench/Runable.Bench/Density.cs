using System.Diagnostics;
using Runable.Box.Client;
using Runable.Sandboxes;
using Runable.Sandboxes.Bubblewrap;

namespace Runable.Bench;

/// <summary>
/// How much memory an idle sandbox takes and how many this machine holds: creates K sandboxes, lets them settle,
/// sums the Rss and Pss of each one's processes (its cgroup), checks that every one still answers an exec, and
/// compares with plain bwrap running <c>sleep infinity</c> in the same namespaces.
/// </summary>
public static class Density
{
    /// <summary>How long the sandboxes are left alone after the last one started, before they are measured.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public static async Task<DensityResult> RunAsync(BubblewrapBackend backend, int count)
    {
        var availableBefore = ProcMemory.AvailableKb();
        var baselines = await MeasureBaselineAsync(Math.Clamp(count, 1, 10));

        var sandboxes = new List<Sandbox>();
        string? failure = null;
        try
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                try
                {
                    sandboxes.Add(await backend.CreateAsync(new SandboxSpec()));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or UnauthorizedAccessException)
                {
                    failure = $"sandbox {i + 1} did not start: {e.Message}";
                    Console.Error.WriteLine($"  {failure}");
                    break;
                }

                if ((i + 1) % 25 == 0)
                {
                    Console.Error.WriteLine($"  {i + 1} sandboxes up");
                }
            }

            var createSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            await Task.Delay(Settle);
            var footprints = sandboxes.Select(s => ProcMemory.Of(backend.Processes(s.Id))).ToList();
            var exited = sandboxes.Where(s => !backend.IsRunning(s.Id)).ToList();
            if (exited.Count > 0)
            {
                // Say why, from what the first of them printed last.
                failure = $"{exited.Count} exited while idle (first: {exited[0].Id}: {backend.RecentOutput(exited[0].Id)})";
                Console.Error.WriteLine($"  {failure}");
            }

            var availableAfter = ProcMemory.AvailableKb();
            var answered = 0;
            foreach (var sandbox in sandboxes)
            {
                answered += await AnswersAsync(sandbox) ? 1 : 0;
            }

            return new DensityResult
            {
                Requested = count,
                Answered = answered,
                Sandboxes = footprints,
                Baselines = baselines,
                AvailableBeforeKb = availableBefore,
                AvailableAfterKb = availableAfter,
                CreateSeconds = createSeconds,
                Failure = failure,
            };
        }
        finally
        {
            foreach (var sandbox in sandboxes)
            {
                await backend.DestroyAsync(sandbox.Id);
            }
        }
    }

    private static async Task<bool> AnswersAsync(Sandbox sandbox)
    {
        using var client = BoxClient.ForUnixSocket(sandbox.BoxSocket, sandbox.BoxToken);
        try
        {
            return (await client.ExecAsync("true")).ExitCode == 0;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The footprints of <paramref name="count"/> plain bwraps running <c>sleep infinity</c>, all up together.</summary>
    private static async Task<IReadOnlyList<MemoryFootprint>> MeasureBaselineAsync(int count)
    {
        var processes = new List<Process>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                processes.Add(BwrapBaseline.Start("sleep", "infinity"));
            }

            // Until every bwrap has its sleep (outer bwrap, bwrap as pid 1, sleep).
            for (var wait = 0; wait < 100 && processes.Any(p => ProcMemory.Tree(p.Id).Count < 3); wait++)
            {
                await Task.Delay(20);
            }

            await Task.Delay(200);
            return processes.Select(p => ProcMemory.Of(ProcMemory.Tree(p.Id))).ToList();
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                process.Dispose();
            }
        }
    }
}
