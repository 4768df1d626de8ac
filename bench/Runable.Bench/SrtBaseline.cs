using System.Diagnostics;

namespace Runable.Bench;

/// <summary>
/// Anthropic's sandbox runtime (<c>srt</c>, npm <c>@anthropic-ai/sandbox-runtime</c>, which bench/run installs into
/// bench/node_modules) wrapping <c>true</c>: another bubblewrap sandbox, as a reference next to plain bwrap.
/// </summary>
public static class SrtBaseline
{
    /// <summary>The srt program: <c>$RUNABLE_SRT</c>, else <c>bench/node_modules/.bin/srt</c>; null when neither exists.</summary>
    public static string? Locate(string repositoryRoot)
    {
        var configured = Environment.GetEnvironmentVariable("RUNABLE_SRT");
        if (configured is { Length: > 0 })
        {
            return File.Exists(configured) ? configured : null;
        }

        var installed = Path.Combine(repositoryRoot, "bench", "node_modules", ".bin", "srt");
        return File.Exists(installed) ? installed : null;
    }

    /// <summary>Times <paramref name="count"/> runs of <c>srt true</c> (its default settings, in an empty directory);
    /// null, with the reason printed, when srt is absent or does not run here.</summary>
    public static async Task<Measurement?> MeasureAsync(string repositoryRoot, int count)
    {
        if (Locate(repositoryRoot) is not { } srt)
        {
            Console.Error.WriteLine("  skipped: srt not found (set RUNABLE_SRT, or let bench/run install it into bench/node_modules with npm)");
            return null;
        }

        var directory = Directory.CreateTempSubdirectory("runable-bench-srt-").FullName;
        try
        {
            var (exitCode, output) = await RunAsync(srt, directory);
            if (exitCode != 0)
            {
                Console.Error.WriteLine($"  skipped: {srt} true exited with {exitCode}: {output.Trim()}");
                return null;
            }

            return await Measurement.RunAsync("srt true", count, 3, async () =>
            {
                var (code, text) = await RunAsync(srt, directory);
                if (code != 0)
                {
                    throw new InvalidOperationException($"srt true exited with {code}: {text}");
                }
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string srt, string directory)
    {
        var info = new ProcessStartInfo(srt, ["true"])
        {
            UseShellExecute = false,
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {srt}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
