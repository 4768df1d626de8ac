using System.Diagnostics;
using System.Text;

namespace Runable.Orchestrator.Tests;

/// <summary>
/// A real <c>runable serve</c> process on a data directory, for the tests that kill it: started with the given admin
/// key and model settings, its standard error kept for failure messages, and a client of it carrying the key.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private const string Listening = "runable serve: listening on ";
    private readonly StringBuilder _errors = new();

    private ServeProcess(Process process) => Process = process;

    public Process Process { get; }

    /// <summary>A client of the orchestrator with the admin key.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>What the process wrote to standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Starts <c>runable serve</c> on <paramref name="data"/> and waits until it listens.</summary>
    public static async Task<ServeProcess> StartAsync(string data, string adminKey, IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        var serve = new ServeProcess(Start(data, adminKey, environment));
        serve.Process.ErrorDataReceived += (_, e) =>
        {
            lock (serve._errors)
            {
                serve._errors.AppendLine(e.Data);
            }
        };
        serve.Process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var line = await serve.Process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(deadline - DateTime.UtcNow, cancellationToken)
                ?? throw new InvalidOperationException("runable serve exited: " + serve.Errors);
            if (line.StartsWith(Listening, StringComparison.Ordinal))
            {
                serve.Client = new HttpClient { BaseAddress = new Uri(line[Listening.Length..].Split(' ')[0].TrimEnd('/') + "/") };
                serve.Client.DefaultRequestHeaders.Add("X-API-Key", adminKey);
                _ = DrainAsync(serve.Process.StandardOutput);
                return serve;
            }
        }
    }

    /// <summary>Runs <c>runable serve</c> on <paramref name="data"/> expecting it to refuse to start; returns its exit code and standard error.</summary>
    public static async Task<(int ExitCode, string Error)> RefusalAsync(string data, string adminKey, IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        using var process = Start(data, adminKey, environment);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return (process.ExitCode, error);
    }

    /// <summary>Kills the process with SIGKILL (nothing flushed, no lease handed back) and waits for it to end.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        Process.Kill();
        await Process.WaitForExitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync(CancellationToken.None);
        }

        Process.Dispose();
    }

    private static Process Start(string data, string adminKey, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "runable.dll"), "serve", "--port", "0", "--pool", "0", "--data", data },
            Environment =
            {
                ["AGENT_API_KEY"] = adminKey,
                ["RUNABLE_BOX_PROGRAM_DIR"] = OrchestratorFixture.RunableDirectory(),
            },
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    private static async Task DrainAsync(StreamReader lines)
    {
        try
        {
            while (await lines.ReadLineAsync() is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }
}
