using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Jobs;

/// <summary>
/// The jobs API's operations for a caller: submit, read, list, cancel, message, and the event log. Tenancy is
/// enforced here and in the store: another tenant's job is absent (404).
/// </summary>
/// <param name="store">Where jobs and events are kept.</param>
/// <param name="hub">Wakes the followers of a job's events.</param>
/// <param name="time">The clock.</param>
/// <param name="backendName">The sandbox backend jobs run on, to check requests against.</param>
/// <param name="models">The configured models, to refuse a job whose model cannot be used; null checks none.</param>
public sealed class JobService(IJobStore store, JobEventHub hub, TimeProvider time, string backendName, Models.ModelCatalog? models = null)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The most events one read returns.</summary>
    public const int MaxEventsPerRead = 1000;

    /// <summary>Fired when a running job was asked to stop (the worker running it in this process stops at once).</summary>
    public event Action<string>? CancelRequested;

    /// <summary>Fired when a job was queued (a worker in this process looks at the queue at once).</summary>
    public event Action? Submitted;

    /// <summary>Queues a job (or returns the one this idempotency key made before).</summary>
    public async Task<(Job Job, bool Created)> SubmitAsync(Caller caller, SubmitJobRequest request, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        request.Validate(backendName);
        var model = request.Model;
        if (models is not null)
        {
            try
            {
                // The job shows the model it runs with, the default one named.
                model = models.Resolve(request.Model).Info.Spec.ToString();
            }
            catch (Models.ModelConfigurationException e)
            {
                throw new OrchestratorException(400, e is Models.ModelNotConfiguredException ? "model_not_configured" : "invalid_model", e.Message);
            }
        }

        if (idempotencyKey is { Length: 0 or > 255 })
        {
            throw new OrchestratorException(400, "invalid_argument", "Idempotency-Key must be 1 to 255 characters.");
        }

        var spec = JsonSerializer.Serialize(request, s_json);
        var job = new Job
        {
            Id = "job_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Tenant = caller.Tenant,
            Task = request.Task!,
            Status = JobStatus.Queued,
            Spec = spec,
            Labels = request.Labels ?? [],
            Priority = request.Priority ?? 0,
            Model = model,
            CreatedAt = time.GetUtcNow(),
        };
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec)));
        var (stored, created) = await store.SubmitAsync(job, idempotencyKey, hash, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            hub.Notify(stored.Id);
            Submitted?.Invoke();
        }

        return (stored, created);
    }

    public async Task<Job> GetAsync(Caller caller, string id, CancellationToken cancellationToken = default) =>
        await store.GetAsync(caller.Tenant, id, cancellationToken).ConfigureAwait(false) ?? throw NotFound(id);

    public async Task<(IReadOnlyList<Job> Items, string? NextCursor)> ListAsync(Caller caller, string? status, string? label, int? limit, string? cursor,
        CancellationToken cancellationToken = default)
    {
        if (status is not null && !JobStatus.All.Contains(status))
        {
            throw new OrchestratorException(400, "invalid_argument", $"Unknown status '{status}': use one of {string.Join(", ", JobStatus.All)}.");
        }

        if (limit is < 1 or > 500)
        {
            throw new OrchestratorException(400, "invalid_argument", "'limit' must be between 1 and 500.");
        }

        return await store.ListAsync(caller.Tenant, status, label, limit ?? 50, cursor, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels a queued job at once; asks a running one's worker to stop (the job then ends as <c>cancelled</c>).</summary>
    public async Task<Job> CancelAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        var job = await store.RequestCancelAsync(caller.Tenant, id, cancellationToken).ConfigureAwait(false) ?? throw NotFound(id);
        hub.Notify(id);
        if (!JobStatus.IsFinal(job.Status))
        {
            CancelRequested?.Invoke(id);
        }

        return job;
    }

    /// <summary>Tells the job's agent something: a <c>message</c> event it reads before its next step.</summary>
    public async Task<JobEvent> MessageAsync(Caller caller, string id, string? text, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > SubmitJobRequest.MaxTaskLength)
        {
            throw new OrchestratorException(400, "invalid_argument", $"'text' is required: 1 to {SubmitJobRequest.MaxTaskLength} characters for the agent.");
        }

        var job = await GetAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (JobStatus.IsFinal(job.Status))
        {
            throw new OrchestratorException(409, "job_finished", $"Job {id} is {job.Status}; a message reaches only a queued or running job.");
        }

        return (await AppendAsync(id, "message", new { text }, cancellationToken: cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The job's events after <paramref name="after"/> (the job must be the caller's).</summary>
    public async Task<IReadOnlyList<JobEvent>> EventsAsync(Caller caller, string id, long after, int? limit, CancellationToken cancellationToken = default)
    {
        _ = await GetAsync(caller, id, cancellationToken).ConfigureAwait(false);
        return await store.EventsAsync(id, Math.Max(0, after), Math.Clamp(limit ?? MaxEventsPerRead, 1, MaxEventsPerRead), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams the job's events after <paramref name="after"/> as they are appended, until the job is final and its
    /// last event was sent, or the caller goes away.
    /// </summary>
    public async IAsyncEnumerable<JobEvent> FollowAsync(Caller caller, string id, long after,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _ = await GetAsync(caller, id, cancellationToken).ConfigureAwait(false);
        var last = Math.Max(0, after);
        while (!cancellationToken.IsCancellationRequested)
        {
            // Take the signal before reading, so an event appended in between wakes the wait below.
            var next = hub.NextAsync(id);
            var events = await store.EventsAsync(id, last, MaxEventsPerRead, cancellationToken).ConfigureAwait(false);
            foreach (var e in events)
            {
                last = e.Seq;
                yield return e;
            }

            if (events.Count == MaxEventsPerRead)
            {
                continue;
            }

            var job = await store.GetAsync(caller.Tenant, id, cancellationToken).ConfigureAwait(false);
            if (job is null || (JobStatus.IsFinal(job.Status) && (await store.EventsAsync(id, last, 1, cancellationToken).ConfigureAwait(false)).Count == 0))
            {
                yield break;
            }

            // Another orchestrator process may append too: look again now and then without a signal.
            await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(2), time, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>Appends an event (only while <paramref name="leaseOwner"/> holds the lease, when given) and wakes the job's followers.</summary>
    public async Task<JobEvent?> AppendAsync(string jobId, string type, object data, string? leaseOwner = null, CancellationToken cancellationToken = default)
    {
        var element = JsonSerializer.SerializeToElement(data, s_json);
        var appended = await store.AppendAsync(jobId, type, element, leaseOwner, cancellationToken).ConfigureAwait(false);
        if (appended is not null)
        {
            hub.Notify(jobId);
        }

        return appended;
    }

    /// <summary>The job's submitted request.</summary>
    public static SubmitJobRequest Request(Job job) =>
        JsonSerializer.Deserialize<SubmitJobRequest>(job.Spec, s_json) ?? throw new InvalidOperationException($"Job {job.Id} has no request.");

    private static OrchestratorException NotFound(string id) => new(404, "job_not_found", $"No job '{id}' for this key's tenant.");
}
