namespace Runable.Orchestrator.Tests.Models;

/// <summary>
/// A clock whose timers fire at once and which records every wait asked of it, so retry tests run fast and can
/// check the backoff. With <c>neverFire</c> its timers never fire, so a wait lasts until it is cancelled.
/// </summary>
public sealed class RecordingTimeProvider(bool neverFire = false) : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _waits = [];

    /// <summary>The due times of the timers made so far, in order.</summary>
    public IReadOnlyList<TimeSpan> Waits
    {
        get
        {
            lock (_lock)
            {
                return [.. _waits];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_lock)
            {
                _waits.Add(dueTime);
            }

            if (!neverFire)
            {
                ThreadPool.QueueUserWorkItem(_ => callback(state));
            }
        }

        return new NoTimer();
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
