namespace Runable.Orchestrator.Jobs;

/// <summary>How many jobs run at once, and how leases are kept.</summary>
public sealed record JobWorkerOptions
{
    /// <summary>Jobs running at once in the whole orchestrator (every worker counts against it).</summary>
    public int MaxRunning { get; init; } = 4;

    /// <summary>Jobs of one tenant running at once.</summary>
    public int MaxRunningPerTenant { get; init; } = 2;

    /// <summary>How long a lease lasts without a renewal; a worker that stops renewing loses its jobs after this.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a running job's lease is renewed (and its cancel flag read).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the queue is looked at when nothing woke the worker.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts before a job whose worker keeps vanishing fails with reason <c>lease_lost</c>.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How long a shutdown waits for running jobs to stop before handing their leases back anyway.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether the worker takes back every lease when it starts, without waiting for them to expire. True for the
    /// default setup, where the store is this process's alone (SQLite in a data directory that one orchestrator
    /// holds locked): a lease found at start was held by a run that died with the previous process. Turn it off when
    /// several processes share one store.
    /// </summary>
    public bool ReclaimLeasesOnStart { get; init; } = true;
}
