namespace Runable.Orchestrator.Jobs;

/// <summary>
/// One attempt at a job, as its runner sees it: the job, and the only ways to write to it — each refused (false or
/// null) once this worker no longer holds the lease, so two runs of a job never both record anything.
/// </summary>
public sealed class JobRun(Job job, IJobStore store, JobService jobs)
{
    public Job Job { get; } = job;

    /// <summary>The submitted request.</summary>
    public SubmitJobRequest Request { get; } = JobService.Request(job);

    /// <summary>This run's lease token (the worker and the attempt).</summary>
    public string Owner { get; } = job.LeaseOwner ?? throw new ArgumentException("The job is not leased.", nameof(job));

    /// <summary>Appends an event to the job's log; null when the lease is lost (the runner should stop).</summary>
    public Task<JobEvent?> AppendAsync(string type, object data, CancellationToken cancellationToken = default) =>
        jobs.AppendAsync(Job.Id, type, data, Owner, cancellationToken);

    /// <summary>Records the job's status, sandbox and usage; false when the lease is lost.</summary>
    public Task<bool> UpdateAsync(string status, string? sandboxId, JobUsage usage, CancellationToken cancellationToken = default) =>
        store.UpdateAsync(Job.Id, Owner, status, sandboxId, usage, cancellationToken);

    /// <summary>The job's events after <paramref name="after"/> (to resume from the log, and to read users' messages).</summary>
    public Task<IReadOnlyList<JobEvent>> EventsAsync(long after, CancellationToken cancellationToken = default) =>
        store.EventsAsync(Job.Id, after, JobService.MaxEventsPerRead, cancellationToken);
}
