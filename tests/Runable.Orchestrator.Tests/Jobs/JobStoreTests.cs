using System.Collections.Concurrent;
using System.Text.Json;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Tests.Jobs;

/// <summary>The job store and queue on a real SQLite database: leases, limits, recovery, idempotency, paging, durability.</summary>
public sealed class JobStoreTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("runable-jobs-").FullName;
    private readonly SqliteJobStore _store;
    private int _next;

    public JobStoreTests() => _store = new SqliteJobStore(new OrchestratorStore(_directory));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Lease_GivesEveryJobToExactlyOneWorker_UnderContention()
    {
        for (var i = 0; i < 100; i++)
        {
            await SubmitAsync("t");
        }

        // Eight threads released at once, each leasing until nothing is left.
        var taken = new ConcurrentBag<string>();
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Factory.StartNew(() =>
        {
            start.Wait(Ct);
            while (_store.LeaseAsync($"w{worker}", s_now, s_now.AddMinutes(1), 1000, 1000, Ct).GetAwaiter().GetResult() is { } job)
            {
                taken.Add(job.Id);
            }
        }, Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(100, taken.Count);
        Assert.Equal(100, taken.Distinct().Count());
    }

    [Fact]
    public async Task Lease_KeepsTheGlobalAndPerTenantLimits_AndTakesPriorityThenAge()
    {
        var a1 = await SubmitAsync("a");
        var a2 = await SubmitAsync("a");
        var b1 = await SubmitAsync("b");
        var urgent = await SubmitAsync("c", priority: 5);

        Assert.Equal(urgent.Id, (await LeaseAsync(global: 3, tenant: 1))!.Id);
        var leasedA1 = (await LeaseAsync(global: 3, tenant: 1))!;
        Assert.Equal((a1.Id, "w/1"), (leasedA1.Id, leasedA1.LeaseOwner));
        Assert.Equal(b1.Id, (await LeaseAsync(global: 3, tenant: 1))!.Id); // a2 waits: tenant a has one running
        Assert.Null(await LeaseAsync(global: 3, tenant: 1)); // three running: the global limit

        Assert.True(await _store.FinishAsync(a1.Id, leasedA1.LeaseOwner!, JobStatus.Succeeded, s_now, "done", "finished", null, Ct));
        Assert.Equal(a2.Id, (await LeaseAsync(global: 3, tenant: 1))!.Id);
    }

    [Fact]
    public async Task ALostLease_RequeuesTheJob_UntilMaxAttempts_ThenFailsItWithTheReason()
    {
        var job = await SubmitAsync("t");
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var leased = await _store.LeaseAsync("w" + attempt, s_now, s_now.AddSeconds(30), 10, 10, Ct);
            Assert.Equal((job.Id, attempt), (leased!.Id, leased.Attempts));
            Assert.Empty(await _store.RecoverExpiredAsync(s_now.AddSeconds(29), 3, Ct)); // not yet expired
            var recovered = Assert.Single(await _store.RecoverExpiredAsync(s_now.AddSeconds(31), 3, Ct));
            Assert.Equal(attempt < 3 ? JobStatus.Queued : JobStatus.Failed, recovered.Status);

            // The worker that lost the lease can neither log, renew, update nor finish.
            var token = leased.LeaseOwner!;
            Assert.Null(await _store.AppendAsync(job.Id, "assistant", Json("""{"text":"late"}"""), token, Ct));
            Assert.Null(await _store.RenewAsync(job.Id, token, s_now.AddMinutes(5), Ct));
            Assert.False(await _store.UpdateAsync(job.Id, token, JobStatus.Running, null, new JobUsage(), Ct));
            Assert.False(await _store.FinishAsync(job.Id, token, JobStatus.Succeeded, s_now, null, null, null, Ct));
        }

        var failed = (await _store.GetAsync("t", job.Id, Ct))!;
        Assert.Equal((JobStatus.Failed, "lease_lost"), (failed.Status, failed.Reason));
        Assert.Contains("3 times", failed.Error, StringComparison.Ordinal);
        Assert.Null(await _store.LeaseAsync("w4", s_now, s_now.AddMinutes(1), 10, 10, Ct));
    }

    [Fact]
    public async Task Cancel_EndsAQueuedJobAtOnce_AndFlagsARunningOne()
    {
        var queued = await SubmitAsync("t");
        var cancelled = (await _store.RequestCancelAsync("t", queued.Id, Ct))!;
        Assert.Equal((JobStatus.Cancelled, "cancelled"), (cancelled.Status, cancelled.Reason));
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Equal(JobStatus.Cancelled, (await _store.RequestCancelAsync("t", queued.Id, Ct))!.Status);
        Assert.Equal(["queued", "cancelled"], (await _store.EventsAsync(queued.Id, 0, 10, Ct)).Select(e => e.Data.GetProperty("status").GetString()));

        var running = await SubmitAsync("t");
        var lease = (await _store.LeaseAsync("w", s_now, s_now.AddMinutes(1), 10, 10, Ct))!;
        Assert.Equal(running.Id, lease.Id);
        var flagged = (await _store.RequestCancelAsync("t", running.Id, Ct))!;
        Assert.Equal((JobStatus.Starting, true), (flagged.Status, flagged.CancelRequested));
        Assert.True((await _store.RenewAsync(running.Id, lease.LeaseOwner!, s_now.AddMinutes(2), Ct))!.CancelRequested);

        // A worker that dies after the request leaves a cancelled job, not a queued one.
        Assert.Equal(JobStatus.Cancelled, Assert.Single(await _store.RecoverExpiredAsync(s_now.AddMinutes(3), 3, Ct)).Status);
        Assert.Null(await _store.RequestCancelAsync("other-tenant", running.Id, Ct));
    }

    [Fact]
    public async Task AnIdempotencyKey_ReturnsTheSameJob_AndRefusesADifferentRequest()
    {
        var first = await _store.SubmitAsync(NewJob("t"), "key-1", "hash-a", Ct);
        var again = await _store.SubmitAsync(NewJob("t"), "key-1", "hash-a", Ct);
        Assert.True(first.Created);
        Assert.False(again.Created);
        Assert.Equal(first.Job.Id, again.Job.Id);

        var conflict = await Assert.ThrowsAsync<OrchestratorException>(() => _store.SubmitAsync(NewJob("t"), "key-1", "hash-b", Ct));
        Assert.Equal((409, "idempotency_key_reused"), (conflict.Status, conflict.Code));

        // Keys are per tenant.
        Assert.True((await _store.SubmitAsync(NewJob("u"), "key-1", "hash-b", Ct)).Created);
    }

    [Fact]
    public async Task Events_AreNumberedPerJob_AndEverythingSurvivesReopening()
    {
        var job = await SubmitAsync("t");
        var other = await SubmitAsync("t");
        // Submitting wrote the first event, status queued, in the same transaction.
        var first = Assert.Single(await _store.EventsAsync(job.Id, 0, 10, Ct));
        Assert.Equal(("status", "queued"), (first.Type, first.Data.GetProperty("status").GetString()));
        for (var i = 2; i <= 6; i++)
        {
            Assert.Equal(i, (await _store.AppendAsync(job.Id, "tool_result", Json($$"""{"i":{{i}}}"""), null, Ct))!.Seq);
        }

        Assert.Equal(2, (await _store.AppendAsync(other.Id, "status", Json("""{"status":"queued"}"""), null, Ct))!.Seq);

        var reopened = new SqliteJobStore(new OrchestratorStore(_directory));
        Assert.Equal(JobStatus.Queued, (await reopened.GetAsync("t", job.Id, Ct))!.Status);
        var events = await reopened.EventsAsync(job.Id, 3, 10, Ct);
        Assert.Equal([4L, 5L, 6L], events.Select(e => e.Seq));
        Assert.Equal(4, events[0].Data.GetProperty("i").GetInt32());
        Assert.Equal(2, (await reopened.EventsAsync(job.Id, 0, 2, Ct)).Count);
    }

    [Fact]
    public async Task List_PagesNewestFirst_FiltersByStatusAndLabel_AndSeesOnlyItsTenant()
    {
        var mine = new List<Job>();
        for (var i = 0; i < 7; i++)
        {
            mine.Add(await SubmitAsync("t", labels: i % 2 == 0 ? ["even"] : ["odd"]));
            await SubmitAsync("someone-else");
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var (items, next) = await _store.ListAsync("t", null, null, 3, cursor, Ct);
            Assert.True(items.Count <= 3);
            seen.AddRange(items.Select(j => j.Id));
            cursor = next;
        }
        while (cursor is not null);

        Assert.Equal(mine.Select(j => j.Id).Reverse(), seen);
        Assert.Equal(4, (await _store.ListAsync("t", null, "even", 50, null, Ct)).Items.Count);
        Assert.Equal(7, (await _store.ListAsync("t", JobStatus.Queued, null, 50, null, Ct)).Items.Count);
        Assert.Empty((await _store.ListAsync("t", JobStatus.Running, null, 50, null, Ct)).Items);
        Assert.Null(await _store.GetAsync("someone-else", mine[0].Id, Ct));
        await Assert.ThrowsAsync<OrchestratorException>(() => _store.ListAsync("t", null, null, 3, "bm90LWEtY3Vyc29y", Ct));
    }

    private Task<Job?> LeaseAsync(int global, int tenant) => _store.LeaseAsync("w", s_now, s_now.AddMinutes(1), global, tenant, Ct);

    private async Task<Job> SubmitAsync(string tenant, int priority = 0, IReadOnlyList<string>? labels = null) =>
        (await _store.SubmitAsync(NewJob(tenant, priority, labels), null, "hash", Ct)).Job;

    private Job NewJob(string tenant, int priority = 0, IReadOnlyList<string>? labels = null) => new()
    {
        Id = $"job_{Interlocked.Increment(ref _next):D4}_{tenant}",
        Tenant = tenant,
        Task = "fix the bug",
        Status = JobStatus.Queued,
        Spec = """{"task":"fix the bug"}""",
        Priority = priority,
        Labels = labels ?? [],
        CreatedAt = s_now,
    };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
