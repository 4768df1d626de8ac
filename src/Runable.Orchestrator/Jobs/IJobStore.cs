using System.Text.Json;

namespace Runable.Orchestrator.Jobs;

/// <summary>
/// Where jobs and their event logs live, and the queue workers lease them from. Every method returns only after
/// the write is durable. SQLite implements it (<see cref="Store.SqliteJobStore"/>); a PostgreSQL implementation
/// plugs in here. Reads and writes of one tenant never see another's jobs.
/// </summary>
public interface IJobStore
{
    /// <summary>
    /// Adds a queued job, with its first event (<c>status: queued</c>) in the same write. With an idempotency key already used by the tenant, returns that job instead
    /// (<c>Created</c> false) when the request is the same, and throws a 409 when it is not.
    /// </summary>
    Task<(Job Job, bool Created)> SubmitAsync(Job job, string? idempotencyKey, string requestHash, CancellationToken cancellationToken = default);

    Task<Job?> GetAsync(string tenant, string id, CancellationToken cancellationToken = default);

    /// <summary>The tenant's jobs, newest first, after <paramref name="cursor"/> (from the previous page).</summary>
    Task<(IReadOnlyList<Job> Items, string? NextCursor)> ListAsync(string tenant, string? status, string? label, int limit, string? cursor,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks a job to stop: a queued one is cancelled at once (with its <c>status: cancelled</c> event in the same
    /// write); a running one is flagged for its worker; a finished one is left as it is. Null when absent.
    /// </summary>
    Task<Job?> RequestCancelAsync(string tenant, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends an event and returns it with its sequence number. With <paramref name="leaseOwner"/>, only while that
    /// worker holds the job's lease (null otherwise: the lease was lost, and the worker must stop).
    /// </summary>
    Task<JobEvent?> AppendAsync(string jobId, string type, JsonElement data, string? leaseOwner = null, CancellationToken cancellationToken = default);

    /// <summary>Events with a sequence number above <paramref name="after"/>, oldest first.</summary>
    Task<IReadOnlyList<JobEvent>> EventsAsync(string jobId, long after, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases the next queued job (highest priority, then oldest) to <paramref name="owner"/> until
    /// <paramref name="expiresAt"/>, if fewer than <paramref name="globalLimit"/> jobs run and fewer than
    /// <paramref name="tenantLimit"/> of its tenant's; null when there is none to take. The job's
    /// <see cref="Job.LeaseOwner"/> is then the lease's own token (<c>owner/attempt</c>), which every later write of
    /// that run presents: an earlier attempt of the same worker holds a different one.
    /// </summary>
    Task<Job?> LeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, int globalLimit, int tenantLimit, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease; the job as it now stands, or null when <paramref name="owner"/> no longer holds it.</summary>
    Task<Job?> RenewAsync(string jobId, string owner, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Records progress of a leased job (status, sandbox, usage); false when the lease is lost.</summary>
    Task<bool> UpdateAsync(string jobId, string owner, string status, string? sandboxId, JobUsage usage, CancellationToken cancellationToken = default);

    /// <summary>Ends a leased job with a final status; false when the lease is lost.</summary>
    Task<bool> FinishAsync(string jobId, string owner, string status, DateTimeOffset now, string? summary, string? reason, string? error,
        CancellationToken cancellationToken = default);

    /// <summary>Hands a leased job back to the queue (a worker shutting down); the attempt does not count. False when the lease is lost.</summary>
    Task<bool> ReleaseAsync(string jobId, string owner, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes back the leases that expired before <paramref name="now"/>: each such job is queued again, or failed
    /// with reason <c>lease_lost</c> once it had <paramref name="maxAttempts"/>. Returns the jobs it changed.
    /// </summary>
    Task<IReadOnlyList<Job>> RecoverExpiredAsync(DateTimeOffset now, int maxAttempts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes back every lease, expired or not, as <see cref="RecoverExpiredAsync"/> does with expired ones: for a store only
    /// this process uses, when it starts, every lease in it belongs to a run that ended with an earlier process.
    /// </summary>
    Task<IReadOnlyList<Job>> RecoverAllAsync(DateTimeOffset now, int maxAttempts, CancellationToken cancellationToken = default);
}
