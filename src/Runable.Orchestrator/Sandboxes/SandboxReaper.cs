using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Sandboxes;

/// <summary>Destroys idle and exited sandboxes every <paramref name="interval"/>.</summary>
public sealed partial class SandboxReaper(SandboxService sandboxes, TimeProvider time, TimeSpan interval, ILogger<SandboxReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await sandboxes.ReapAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
                {
                    // One sandbox that will not go must not stop the reaping of the others; the next tick retries.
                    LogReapFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reaping sandboxes failed; retrying at the next tick")]
    private static partial void LogReapFailed(ILogger logger, Exception exception);
}
