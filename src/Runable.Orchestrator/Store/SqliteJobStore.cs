using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Store;

/// <summary>
/// <see cref="IJobStore"/> on the orchestrator's SQLite database. Every write is one statement or one transaction
/// (SQLite serializes writers, so a lease is taken by exactly one worker), durable when it returns
/// (WAL with <c>synchronous = FULL</c>). Writers of this process also take turns on a lock of their own: SQLite
/// answers a second concurrent writer "busy", and the retry waits far longer than a write takes.
/// </summary>
public sealed class SqliteJobStore(OrchestratorStore store) : IJobStore
{
    private readonly Lock _writer = new();

    private const string Columns = """
        id, tenant, task, status, spec, labels, priority, model, created_at, started_at, finished_at, attempts, sandbox_id,
        steps, input_tokens, output_tokens, cost_usd, summary, reason, error, cancel_requested, lease_owner, lease_expires_at
        """;

    private const string ActiveStatuses = $"('{JobStatus.Starting}', '{JobStatus.Running}')";

    public Task<(Job Job, bool Created)> SubmitAsync(Job job, string? idempotencyKey, string requestHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var turn = _writer.EnterScope();
        using var connection = store.Open();
        using var transaction = connection.BeginTransaction();
        if (idempotencyKey is not null &&
            Read(connection, transaction, $"SELECT {Columns}, request_hash FROM jobs WHERE tenant = $tenant AND idempotency_key = $key",
                reader => (Job: Map(reader), Hash: reader.GetString(23)), ("$tenant", job.Tenant), ("$key", idempotencyKey)) is [var existing])
        {
            return existing.Hash == requestHash
                ? Task.FromResult((existing.Job, false))
                : throw new OrchestratorException(409, "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request; send a new key for a new job.");
        }

        Write(connection, transaction, """
            INSERT INTO jobs (id, tenant, task, status, spec, labels, priority, model, idempotency_key, request_hash, created_at)
            VALUES ($id, $tenant, $task, $status, $spec, $labels, $priority, $model, $key, $hash, $created)
            """,
            ("$id", job.Id), ("$tenant", job.Tenant), ("$task", job.Task), ("$status", job.Status), ("$spec", job.Spec),
            ("$labels", JsonSerializer.Serialize(job.Labels)), ("$priority", job.Priority), ("$model", job.Model),
            ("$key", idempotencyKey), ("$hash", requestHash), ("$created", At(job.CreatedAt)));
        Write(connection, transaction, "INSERT INTO job_events (job_id, seq, type, data, created_at) VALUES ($id, 1, 'status', $data, $created)",
            ("$id", job.Id), ("$data", $$"""{"status":"{{job.Status}}"}"""), ("$created", At(job.CreatedAt)));
        transaction.Commit();
        return Task.FromResult((job, true));
    }

    public Task<Job?> GetAsync(string tenant, string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.Query($"SELECT {Columns} FROM jobs WHERE tenant = $tenant AND id = $id", Map, ("$tenant", tenant), ("$id", id))
            .FirstOrDefault());

    public Task<(IReadOnlyList<Job> Items, string? NextCursor)> ListAsync(string tenant, string? status, string? label, int limit, string? cursor,
        CancellationToken cancellationToken = default)
    {
        var before = cursor is null ? long.MaxValue : DecodeCursor(cursor);
        var rows = store.Query($"""
            SELECT {Columns}, num FROM jobs
            WHERE tenant = $tenant AND num < $before
              AND ($status IS NULL OR status = $status)
              AND ($label IS NULL OR EXISTS (SELECT 1 FROM json_each(jobs.labels) WHERE value = $label))
            ORDER BY num DESC LIMIT $limit
            """,
            reader => (Job: Map(reader), Num: reader.GetInt64(23)),
            ("$tenant", tenant), ("$before", before), ("$status", status), ("$label", label), ("$limit", limit + 1));
        var items = rows.Take(limit).Select(r => r.Job).ToList();
        var next = rows.Count > limit ? EncodeCursor(rows[limit - 1].Num) : null;
        return Task.FromResult<(IReadOnlyList<Job>, string?)>((items, next));
    }

    public Task<Job?> RequestCancelAsync(string tenant, string id, CancellationToken cancellationToken = default)
    {
        var now = At(DateTimeOffset.UtcNow);
        using var turn = _writer.EnterScope();
        using var connection = store.Open();
        using var transaction = connection.BeginTransaction();

        // A queued job ends here, with its status event in the same write; a running one is flagged for its worker;
        // a finished one stays as it is (asking again changes nothing).
        var cancelledNow = Read(connection, transaction, $"""
            UPDATE jobs SET status = '{JobStatus.Cancelled}', reason = 'cancelled', finished_at = $now, cancel_requested = 1
            WHERE tenant = $tenant AND id = $id AND status = '{JobStatus.Queued}'
            RETURNING id
            """, reader => reader.GetString(0), ("$tenant", tenant), ("$id", id), ("$now", now)).Count == 1;
        if (cancelledNow)
        {
            Write(connection, transaction, """
                INSERT INTO job_events (job_id, seq, type, data, created_at)
                SELECT $id, COALESCE((SELECT MAX(seq) FROM job_events WHERE job_id = $id), 0) + 1, 'status', $data, $now
                """, ("$id", id), ("$data", $$"""{"status":"{{JobStatus.Cancelled}}","reason":"cancelled"}"""), ("$now", now));
        }
        else
        {
            Write(connection, transaction, $"""
                UPDATE jobs SET cancel_requested = 1 WHERE tenant = $tenant AND id = $id AND status IN {ActiveStatuses}
                """, ("$tenant", tenant), ("$id", id));
        }

        var job = Read(connection, transaction, $"SELECT {Columns} FROM jobs WHERE tenant = $tenant AND id = $id", Map, ("$tenant", tenant), ("$id", id));
        transaction.Commit();
        return Task.FromResult(job.FirstOrDefault());
    }

    public Task<JobEvent?> AppendAsync(string jobId, string type, JsonElement data, string? leaseOwner = null, CancellationToken cancellationToken = default)
    {
        var created = DateTimeOffset.UtcNow;
        var rows = WriteQuery("""
            INSERT INTO job_events (job_id, seq, type, data, created_at)
            SELECT $job, COALESCE((SELECT MAX(seq) FROM job_events WHERE job_id = $job), 0) + 1, $type, $data, $created
            WHERE $owner IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = $job AND lease_owner = $owner)
            RETURNING seq
            """, reader => reader.GetInt64(0),
            ("$job", jobId), ("$type", type), ("$data", data.GetRawText()), ("$created", At(created)), ("$owner", leaseOwner));
        return Task.FromResult(rows is [var seq] ? new JobEvent(seq, type, data.Clone(), created) : null);
    }

    public Task<IReadOnlyList<JobEvent>> EventsAsync(string jobId, long after, int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<JobEvent>>(store.Query(
            "SELECT seq, type, data, created_at FROM job_events WHERE job_id = $job AND seq > $after ORDER BY seq LIMIT $limit",
            reader =>
            {
                using var document = JsonDocument.Parse(reader.GetString(2));
                return new JobEvent(reader.GetInt64(0), reader.GetString(1), document.RootElement.Clone(), Parse(reader.GetString(3)));
            },
            ("$job", jobId), ("$after", after), ("$limit", limit)));

    public Task<Job?> LeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, int globalLimit, int tenantLimit,
        CancellationToken cancellationToken = default)
    {
        var rows = WriteQuery($"""
            UPDATE jobs SET status = '{JobStatus.Starting}', lease_owner = $owner || '/' || (attempts + 1), lease_expires_at = $expires,
                attempts = attempts + 1, started_at = COALESCE(started_at, $now)
            WHERE num = (
                SELECT j.num FROM jobs j
                WHERE j.status = '{JobStatus.Queued}'
                  AND (SELECT COUNT(*) FROM jobs r WHERE r.status IN {ActiveStatuses}) < $global
                  AND (SELECT COUNT(*) FROM jobs r WHERE r.tenant = j.tenant AND r.status IN {ActiveStatuses}) < $perTenant
                ORDER BY j.priority DESC, j.num ASC
                LIMIT 1)
            RETURNING {Columns}
            """, Map, ("$owner", owner), ("$expires", At(expiresAt)), ("$now", At(now)), ("$global", globalLimit), ("$perTenant", tenantLimit));
        return Task.FromResult(rows.FirstOrDefault());
    }

    public Task<Job?> RenewAsync(string jobId, string owner, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        Task.FromResult(WriteQuery($"""
            UPDATE jobs SET lease_expires_at = $expires
            WHERE id = $id AND lease_owner = $owner AND status IN {ActiveStatuses}
            RETURNING {Columns}
            """, Map, ("$id", jobId), ("$owner", owner), ("$expires", At(expiresAt))).FirstOrDefault());

    public Task<bool> UpdateAsync(string jobId, string owner, string status, string? sandboxId, JobUsage usage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        return Task.FromResult(WriteExecute($"""
            UPDATE jobs SET status = $status, sandbox_id = COALESCE($sandbox, sandbox_id), steps = $steps,
                input_tokens = $input, output_tokens = $output, cost_usd = $cost
            WHERE id = $id AND lease_owner = $owner AND status IN {ActiveStatuses}
            """,
            ("$id", jobId), ("$owner", owner), ("$status", status), ("$sandbox", sandboxId), ("$steps", usage.Steps),
            ("$input", usage.InputTokens), ("$output", usage.OutputTokens), ("$cost", usage.CostUsd.ToString(CultureInfo.InvariantCulture))) == 1);
    }

    public Task<bool> FinishAsync(string jobId, string owner, string status, DateTimeOffset now, string? summary, string? reason, string? error,
        CancellationToken cancellationToken = default)
    {
        if (!JobStatus.IsFinal(status))
        {
            throw new ArgumentException($"'{status}' is not a final status.", nameof(status));
        }

        return Task.FromResult(WriteExecute($"""
            UPDATE jobs SET status = $status, finished_at = $now, summary = $summary, reason = $reason, error = $error,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $id AND lease_owner = $owner AND status IN {ActiveStatuses}
            """,
            ("$id", jobId), ("$owner", owner), ("$status", status), ("$now", At(now)), ("$summary", summary), ("$reason", reason),
            ("$error", error)) == 1);
    }

    public Task<bool> ReleaseAsync(string jobId, string owner, CancellationToken cancellationToken = default) =>
        Task.FromResult(WriteExecute($"""
            UPDATE jobs SET status = '{JobStatus.Queued}', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $id AND lease_owner = $owner AND status IN {ActiveStatuses}
            """, ("$id", jobId), ("$owner", owner)) == 1);

    public Task<IReadOnlyList<Job>> RecoverExpiredAsync(DateTimeOffset now, int maxAttempts, CancellationToken cancellationToken = default) =>
        Recover(now, now, maxAttempts);

    public Task<IReadOnlyList<Job>> RecoverAllAsync(DateTimeOffset now, int maxAttempts, CancellationToken cancellationToken = default) =>
        Recover(now, DateTimeOffset.MaxValue, maxAttempts);

    /// <summary>Takes back the leases expiring before <paramref name="before"/>, as of <paramref name="now"/>.</summary>
    private Task<IReadOnlyList<Job>> Recover(DateTimeOffset now, DateTimeOffset before, int maxAttempts)
    {
        var rows = WriteQuery($"""
            UPDATE jobs SET
              status = CASE WHEN attempts >= $max OR cancel_requested = 1
                            THEN (CASE WHEN cancel_requested = 1 THEN '{JobStatus.Cancelled}' ELSE '{JobStatus.Failed}' END)
                            ELSE '{JobStatus.Queued}' END,
              reason = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts >= $max THEN 'lease_lost' ELSE reason END,
              error = CASE WHEN attempts >= $max AND cancel_requested = 0
                           THEN 'The worker running this job stopped answering ' || attempts || ' times; giving up.' ELSE error END,
              finished_at = CASE WHEN attempts >= $max OR cancel_requested = 1 THEN $now ELSE finished_at END,
              lease_owner = NULL, lease_expires_at = NULL
            WHERE status IN {ActiveStatuses} AND lease_expires_at < $before
            RETURNING {Columns}
            """, Map, ("$now", At(now)), ("$before", At(before)), ("$max", maxAttempts));
        return Task.FromResult<IReadOnlyList<Job>>(rows);
    }

    private List<T> WriteQuery<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        using var turn = _writer.EnterScope();
        return store.Query(sql, map, parameters);
    }

    private int WriteExecute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var turn = _writer.EnterScope();
        return store.Execute(sql, parameters);
    }

    /// <summary>Timestamps as sortable UTC text, so that comparisons in SQL are comparisons in time.</summary>
    private static string At(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset? ParseOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : Parse(reader.GetString(i));

    private static string? StringOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static Job Map(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Tenant = reader.GetString(1),
        Task = reader.GetString(2),
        Status = reader.GetString(3),
        Spec = reader.GetString(4),
        Labels = JsonSerializer.Deserialize<List<string>>(reader.GetString(5)) ?? [],
        Priority = reader.GetInt32(6),
        Model = StringOrNull(reader, 7),
        CreatedAt = Parse(reader.GetString(8)),
        StartedAt = ParseOrNull(reader, 9),
        FinishedAt = ParseOrNull(reader, 10),
        Attempts = reader.GetInt32(11),
        SandboxId = StringOrNull(reader, 12),
        Usage = new JobUsage
        {
            Steps = reader.GetInt32(13),
            InputTokens = reader.GetInt64(14),
            OutputTokens = reader.GetInt64(15),
            CostUsd = decimal.Parse(reader.GetString(16), CultureInfo.InvariantCulture),
        },
        Summary = StringOrNull(reader, 17),
        Reason = StringOrNull(reader, 18),
        Error = StringOrNull(reader, 19),
        CancelRequested = reader.GetInt64(20) != 0,
        LeaseOwner = StringOrNull(reader, 21),
        LeaseExpiresAt = ParseOrNull(reader, 22),
    };

    private static string EncodeCursor(long num) => Convert.ToBase64String(Encoding.UTF8.GetBytes("j" + num.ToString(CultureInfo.InvariantCulture)));

    private static long DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith('j') && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var num))
            {
                return num;
            }
        }
        catch (FormatException)
        {
        }

        throw new OrchestratorException(400, "invalid_argument", "'cursor' is not one this API gave out: pass the next_cursor of the previous page.");
    }

    private static List<T> Read<T>(SqliteConnection connection, SqliteTransaction transaction, string sql, Func<SqliteDataReader, T> map,
        params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static void Write(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
