namespace Runable.Orchestrator.Jobs;

/// <summary>
/// Does a leased job's work (the agent loop). The worker around it holds the lease, stops it through the token
/// (cancel, timeout, lost lease, shutdown) and records the outcome; a runner that throws fails the job with the
/// exception's message.
/// </summary>
public interface IJobRunner
{
    Task<JobOutcome> RunAsync(JobRun run, CancellationToken cancellationToken);
}

/// <summary>How a run ended: a final status, the agent's summary, the reason it stopped, and an error if it failed.</summary>
public sealed record JobOutcome(string Status, string? Summary, string Reason, string? Error = null)
{
    public static JobOutcome Succeeded(string? summary, string reason = "finished") => new(JobStatus.Succeeded, summary, reason);

    public static JobOutcome Failed(string reason, string error) => new(JobStatus.Failed, null, reason, error);
}
