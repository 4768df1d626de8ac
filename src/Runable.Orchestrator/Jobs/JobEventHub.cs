using System.Collections.Concurrent;

namespace Runable.Orchestrator.Jobs;

/// <summary>
/// Wakes the readers of a job's live event stream when an event is appended (in this process). The log in the
/// store stays the truth: a woken reader reads it from where it was, so nothing is missed between wake-ups.
/// </summary>
public sealed class JobEventHub
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    /// <summary>A task that completes at the next <see cref="Notify"/> for the job.</summary>
    public Task NextAsync(string jobId) =>
        _signals.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes every reader waiting on the job.</summary>
    public void Notify(string jobId)
    {
        if (_signals.TryRemove(jobId, out var signal))
        {
            signal.TrySetResult();
        }
    }
}
