using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>A real SQLite store in a temporary directory, its job store, and a recall index over it.</summary>
public sealed class RecallTestStore : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static int s_next;

    public RecallTestStore(IEmbeddingGenerator<string, Embedding<float>>? embeddings = null)
    {
        Store = new OrchestratorStore(Directory);
        Jobs = new SqliteJobStore(Store);
        Index = new RecallIndex(Store, embeddings);
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("runable-recall-").FullName;

    public OrchestratorStore Store { get; private set; }

    public SqliteJobStore Jobs { get; private set; }

    public RecallIndex Index { get; private set; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens the store again from its files, as a restarted orchestrator would.</summary>
    public void Reopen(IEmbeddingGenerator<string, Embedding<float>>? embeddings = null)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Store = new OrchestratorStore(Directory);
        Jobs = new SqliteJobStore(Store);
        Index = new RecallIndex(Store, embeddings);
    }

    public async Task<Job> SubmitAsync(string tenant)
    {
        var id = $"job_recall_{Interlocked.Increment(ref s_next):D5}";
        var job = new Job
        {
            Id = id,
            Tenant = tenant,
            Task = "fix the failing tests",
            Status = JobStatus.Queued,
            Spec = """{"task":"fix the failing tests"}""",
            CreatedAt = DateTimeOffset.UtcNow,
        };
        return (await Jobs.SubmitAsync(job, null, "hash", Ct)).Job;
    }

    /// <summary>Appends an event as the agent's loop logs it (snake_case JSON) and returns its sequence number.</summary>
    public async Task<long> AppendAsync(string jobId, string type, object data) =>
        (await Jobs.AppendAsync(jobId, type, JsonSerializer.SerializeToElement(data, s_json), cancellationToken: Ct))!.Seq;

    public Task<long> ToolResultAsync(string jobId, string text, string name = "bash") =>
        AppendAsync(jobId, "tool_result", new { id = "call_" + Guid.NewGuid().ToString("N")[..8], name, text, is_error = false });

    public Task<long> ToolCallAsync(string jobId, string name, object arguments) =>
        AppendAsync(jobId, "tool_call", new { id = "call_" + Guid.NewGuid().ToString("N")[..8], name, arguments });

    public Task<long> AssistantAsync(string jobId, string text) =>
        AppendAsync(jobId, "assistant", new { step = 1, text, tool_calls = Array.Empty<object>() });

    public Task<long> MessageAsync(string jobId, string text) => AppendAsync(jobId, "message", new { text });

    /// <summary>How many rows the full-text index holds for the job.</summary>
    public long IndexedRows(string jobId) =>
        Store.Query("""
            SELECT COUNT(*) FROM job_event_search
            WHERE rowid BETWEEN (SELECT num FROM jobs WHERE id = $id) * 4294967296 AND (SELECT num FROM jobs WHERE id = $id) * 4294967296 + 4294967295
            """, r => r.GetInt64(0), ("$id", jobId))[0];

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
