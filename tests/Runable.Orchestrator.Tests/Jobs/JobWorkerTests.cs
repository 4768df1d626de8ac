using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Tests.Jobs;

/// <summary>
/// The worker around a runner, on a real SQLite store: outcomes, cancel, timeout, failures, the lease kept and
/// lost, limits across workers, and shutdown handing jobs back. The runner here waits for the test's word.
/// </summary>
public sealed class JobWorkerTests : IDisposable
{
    private static readonly Caller s_caller = new("key_test", "tenant", new HashSet<string> { Caller.Admin });
    private readonly string _directory = Directory.CreateTempSubdirectory("runable-worker-").FullName;
    private readonly SqliteJobStore _store;
    private readonly JobEventHub _hub = new();
    private readonly JobService _jobs;
    private readonly List<JobWorker> _workers = [];

    public JobWorkerTests()
    {
        _store = new SqliteJobStore(new OrchestratorStore(_directory));
        _jobs = new JobService(_store, _hub, TimeProvider.System, "bubblewrap");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AJob_RunsOnce_AndEndsWithItsOutcome_AndEveryStepInItsLog()
    {
        var runner = new WaitingRunner();
        await StartWorkerAsync(runner);
        var job = await SubmitAsync();
        var run = await runner.StartedAsync(job.Id);
        Assert.NotNull(await run.Run.AppendAsync("assistant", new { text = "looking" }, Ct));
        Assert.True(await run.Run.UpdateAsync(JobStatus.Running, "sbx_1", new JobUsage { Steps = 1, InputTokens = 10, OutputTokens = 5, CostUsd = 0.01m }, Ct));
        run.Finish(JobOutcome.Succeeded("fixed it"));

        var done = await WaitForAsync(job.Id, JobStatus.IsFinal);
        Assert.Equal((JobStatus.Succeeded, "fixed it", "finished", 1), (done.Status, done.Summary, done.Reason, done.Attempts));
        Assert.Equal(("sbx_1", 1, 10L), (done.SandboxId, done.Usage.Steps, done.Usage.InputTokens));
        var events = await _store.EventsAsync(job.Id, 0, 100, Ct);
        Assert.Equal(["status", "status", "assistant", "status"], events.Select(e => e.Type));
        Assert.Equal(["queued", "starting", "succeeded"], events.Where(e => e.Type == "status").Select(e => e.Data.GetProperty("status").GetString()));
        Assert.Equal(1, runner.Runs(job.Id));
    }

    [Fact]
    public async Task Cancel_StopsARunningJob_TimeoutEndsOne_AndAThrowingRunnerFailsIt()
    {
        var runner = new WaitingRunner();
        await StartWorkerAsync(runner);

        var cancelled = await SubmitAsync();
        await runner.StartedAsync(cancelled.Id);
        await _jobs.CancelAsync(s_caller, cancelled.Id, Ct);
        Assert.Equal((JobStatus.Cancelled, "cancelled"), await OutcomeAsync(cancelled.Id));

        var slow = await SubmitAsync(new JobLimitsRequest { TimeoutS = 1 });
        await runner.StartedAsync(slow.Id);
        Assert.Equal((JobStatus.TimedOut, "timeout"), await OutcomeAsync(slow.Id));

        var broken = await SubmitAsync();
        (await runner.StartedAsync(broken.Id)).Fail(new InvalidOperationException("the model endpoint refused the key"));
        var failed = await WaitForAsync(broken.Id, JobStatus.IsFinal);
        Assert.Equal((JobStatus.Failed, "the model endpoint refused the key"), (failed.Status, failed.Error));
    }

    [Fact]
    public async Task TwoWorkers_KeepTheLimits_AndNeverRunAJobTwice()
    {
        var runner = new WaitingRunner();
        await StartWorkerAsync(runner, new JobWorkerOptions { MaxRunning = 3, MaxRunningPerTenant = 3, Poll = TimeSpan.FromMilliseconds(50), ReclaimLeasesOnStart = false });
        await StartWorkerAsync(runner, new JobWorkerOptions { MaxRunning = 3, MaxRunningPerTenant = 3, Poll = TimeSpan.FromMilliseconds(50), ReclaimLeasesOnStart = false });
        var jobs = new List<Job>();
        for (var i = 0; i < 8; i++)
        {
            jobs.Add(await SubmitAsync());
        }

        for (var finished = 0; finished < jobs.Count;)
        {
            await Task.Delay(100, Ct);
            Assert.True(runner.Active <= 3, $"{runner.Active} jobs ran at once; the limit is 3");
            foreach (var run in runner.TakeStarted())
            {
                run.Finish(JobOutcome.Succeeded("ok"));
                finished++;
            }
        }

        foreach (var job in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await WaitForAsync(job.Id, JobStatus.IsFinal)).Status);
            Assert.Equal(1, runner.Runs(job.Id));
        }
    }

    [Fact]
    public async Task ALostLease_GoesToAnotherWorker_AndTheFirstCanNoLongerWrite()
    {
        var runner = new WaitingRunner();
        var stalled = new JobWorkerOptions { Lease = TimeSpan.FromSeconds(1), Heartbeat = TimeSpan.FromSeconds(30), Poll = TimeSpan.FromMilliseconds(100), ReclaimLeasesOnStart = false };
        await StartWorkerAsync(runner, stalled);
        var job = await SubmitAsync();
        var first = await runner.StartedAsync(job.Id);

        // The first worker stops renewing (its heartbeat is far off): a second one, sharing the store, takes the job back
        // once the lease expired and runs it.
        await StartWorkerAsync(runner, new JobWorkerOptions { Poll = TimeSpan.FromMilliseconds(100), ReclaimLeasesOnStart = false });
        var second = await runner.StartedAsync(job.Id, attempt: 2);
        Assert.Null(await first.Run.AppendAsync("assistant", new { text = "still here?" }, Ct));
        Assert.False(await first.Run.UpdateAsync(JobStatus.Running, null, new JobUsage(), Ct));
        first.Finish(JobOutcome.Succeeded("from the first"));
        second.Finish(JobOutcome.Succeeded("from the second"));

        var done = await WaitForAsync(job.Id, JobStatus.IsFinal);
        Assert.Equal(("from the second", 2), (done.Summary, done.Attempts));
        var events = await _store.EventsAsync(job.Id, 0, 100, Ct);
        Assert.DoesNotContain(events, e => e.Type == "assistant");
        Assert.Contains(events, e => e.Type == "status" && e.Data.GetProperty("status").GetString() == JobStatus.Queued
            && e.Data.TryGetProperty("reason", out var reason) && reason.GetString() == "lease_lost");
    }

    [Fact]
    public async Task AStartingWorker_TakesBackTheLeasesOfTheProcessBefore_WithoutWaitingForThemToExpire()
    {
        // A worker of a process that was killed: its lease would last an hour.
        var job = await SubmitAsync();
        var now = DateTimeOffset.UtcNow;
        Assert.NotNull(await _store.LeaseAsync("wrk_killed", now, now.AddHours(1), 4, 4, Ct));

        var runner = new WaitingRunner();
        await StartWorkerAsync(runner);
        var started = await runner.StartedAsync(job.Id, attempt: 2).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        started.Finish(JobOutcome.Succeeded("run again after the restart"));

        Assert.Equal((JobStatus.Succeeded, "finished"), await OutcomeAsync(job.Id));
        var events = await _store.EventsAsync(job.Id, 0, 100, Ct);
        Assert.Contains(events, e => e.Type == "status" && e.Data.GetProperty("status").GetString() == JobStatus.Queued
            && e.Data.TryGetProperty("reason", out var reason) && reason.GetString() == "lease_lost");
    }

    [Fact]
    public async Task Shutdown_HandsRunningJobsBack_AndTheNextWorkerRunsThem()
    {
        var runner = new WaitingRunner();
        var worker = await StartWorkerAsync(runner);
        var job = await SubmitAsync();
        await runner.StartedAsync(job.Id);
        await worker.StopAsync(Ct);
        runner.TakeStarted();

        var handedBack = (await _store.GetAsync("tenant", job.Id, Ct))!;
        Assert.Equal((JobStatus.Queued, 0, (string?)null), (handedBack.Status, handedBack.Attempts, handedBack.LeaseOwner));

        await StartWorkerAsync(runner);
        (await runner.StartedAsync(job.Id)).Finish(JobOutcome.Succeeded("done after the restart"));
        Assert.Equal((JobStatus.Succeeded, "finished"), await OutcomeAsync(job.Id));
    }

    private async Task<JobWorker> StartWorkerAsync(IJobRunner runner, JobWorkerOptions? options = null)
    {
        var worker = new JobWorker(_store, _jobs, _hub, runner, options ?? new JobWorkerOptions { Poll = TimeSpan.FromMilliseconds(100) },
            TimeProvider.System, NullLogger<JobWorker>.Instance);
        _workers.Add(worker);
        await worker.StartAsync(Ct);
        return worker;
    }

    private async Task<Job> SubmitAsync(JobLimitsRequest? limits = null) =>
        (await _jobs.SubmitAsync(s_caller, new SubmitJobRequest { Task = "fix it", Limits = limits }, null, Ct)).Job;

    private async Task<(string Status, string? Reason)> OutcomeAsync(string id)
    {
        var job = await WaitForAsync(id, JobStatus.IsFinal);
        return (job.Status, job.Reason);
    }

    private async Task<Job> WaitForAsync(string id, Func<string, bool> status)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var job = (await _store.GetAsync("tenant", id, Ct))!;
            if (status(job.Status))
            {
                return job;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"job {id} is still {job.Status}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>A runner that reports each start and then waits for the test to finish or fail it (or for its token).</summary>
    private sealed class WaitingRunner : IJobRunner
    {
        private readonly ConcurrentDictionary<string, int> _runs = new();
        private readonly ConcurrentQueue<Started> _started = new();
        private int _active;

        public int Active => Volatile.Read(ref _active);

        public int Runs(string id) => _runs.GetValueOrDefault(id);

        public async Task<JobOutcome> RunAsync(JobRun run, CancellationToken cancellationToken)
        {
            _runs.AddOrUpdate(run.Job.Id, 1, (_, n) => n + 1);
            var started = new Started(run);
            Interlocked.Increment(ref _active);
            try
            {
                _started.Enqueue(started);
                return await started.Outcome.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }

        public List<Started> TakeStarted()
        {
            var taken = new List<Started>();
            while (_started.TryDequeue(out var started))
            {
                taken.Add(started);
            }

            return taken;
        }

        public async Task<Started> StartedAsync(string id, int attempt = 1)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                if (_started.FirstOrDefault(s => s.Run.Job.Id == id && s.Run.Job.Attempts == attempt) is { } started)
                {
                    return started;
                }

                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"job {id} did not start (attempt {attempt})");
                await Task.Delay(20, Ct);
            }
        }
    }

    private sealed class Started(JobRun run)
    {
        public JobRun Run { get; } = run;

        public TaskCompletionSource<JobOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Finish(JobOutcome outcome) => Outcome.TrySetResult(outcome);

        public void Fail(Exception exception) => Outcome.TrySetException(exception);
    }
}
