using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Runable.Orchestrator.Jobs;

/// <summary>
/// Takes jobs from the queue and runs them in this process: leases them (within the global and per-tenant limits),
/// renews each lease while its job runs, stops a job on cancel, on <c>timeout_s</c> or when its lease is lost, records
/// how it ended, and takes back the leases of workers that vanished. On shutdown, running jobs are stopped and their
/// leases handed back, so another start picks them up.
/// </summary>
public sealed partial class JobWorker(IJobStore store, JobService jobs, JobEventHub hub, IJobRunner runner, JobWorkerOptions options,
    TimeProvider time, ILogger<JobWorker> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, RunningJob> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>This worker's name in leases (each lease adds its attempt: <c>wrk_.../2</c>).</summary>
    public string Owner { get; } = "wrk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>The jobs this worker runs now.</summary>
    public IReadOnlyCollection<string> Running => [.. _running.Keys];

    /// <summary>Looks at the queue now rather than at the next poll (a job was submitted).</summary>
    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        jobs.CancelRequested += OnCancelRequested;
        jobs.Submitted += Wake;
        try
        {
            if (options.ReclaimLeasesOnStart)
            {
                // The process before this one (killed, or its machine lost power) cannot renew its leases any more.
                await RecoverAsync(all: true, stoppingToken).ConfigureAwait(false);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RecoverAsync(all: false, stoppingToken).ConfigureAwait(false);
                    await LeaseAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogQueueFailed(logger, e);
                }

                try
                {
                    await _wake.WaitAsync(options.Poll, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            jobs.CancelRequested -= OnCancelRequested;
            jobs.Submitted -= Wake;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var running = _running.Values.ToList();
        foreach (var job in running)
        {
            job.Stop(StopReason.Shutdown);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(running.Select(r => r.Completion)), Task.Delay(options.ShutdownGrace, time, cancellationToken)).ConfigureAwait(false);
    }

    private async Task RecoverAsync(bool all, CancellationToken cancellationToken)
    {
        var recovered = all
            ? await store.RecoverAllAsync(time.GetUtcNow(), options.MaxAttempts, cancellationToken).ConfigureAwait(false)
            : await store.RecoverExpiredAsync(time.GetUtcNow(), options.MaxAttempts, cancellationToken).ConfigureAwait(false);
        foreach (var job in recovered)
        {
            LogRecovered(logger, job.Id, job.Status, job.Attempts);
            await jobs.AppendAsync(job.Id, "status", new { status = job.Status, reason = job.Status == JobStatus.Queued ? "lease_lost" : job.Reason, attempts = job.Attempts },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task LeaseAsync(CancellationToken cancellationToken)
    {
        while (_running.Count < options.MaxRunning && !cancellationToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (await store.LeaseAsync(Owner, now, now + options.Lease, options.MaxRunning, options.MaxRunningPerTenant, cancellationToken)
                .ConfigureAwait(false) is not { } job)
            {
                return;
            }

            var running = new RunningJob(job);
            _running[job.Id] = running;
            running.Completion = Task.Run(() => RunAsync(running), CancellationToken.None);
        }
    }

    private async Task RunAsync(RunningJob running)
    {
        var job = running.Job;
        try
        {
            LogStarted(logger, job.Id, job.Attempts);
            var run = new JobRun(job, store, jobs);
            if (await run.AppendAsync("status", new { status = JobStatus.Starting, attempt = job.Attempts }).ConfigureAwait(false) is null)
            {
                return;
            }

            if (run.Request.Limits?.TimeoutS is { } timeout)
            {
                running.StopAfter(TimeSpan.FromSeconds(timeout), time);
            }

            using var heartbeat = new CancellationTokenSource();
            var renewing = RenewAsync(running, heartbeat.Token);
            JobOutcome? outcome = null;
            try
            {
                outcome = await runner.RunAsync(run, running.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (running.Reason is not null)
            {
                // stopped: the reason says how it ended
            }
            catch (OperationCanceledException e)
            {
                // The runner stopped by itself: a write of its was refused because the lease is gone. Recorded as a
                // failure only if this run still holds the lease after all.
                LogRunStopped(logger, job.Id, e.Message);
                outcome = JobOutcome.Failed("error", e.Message);
            }
            catch (Exception e)
            {
                LogRunFailed(logger, job.Id, e);
                outcome = JobOutcome.Failed("error", e.Message);
            }
            finally
            {
                await heartbeat.CancelAsync().ConfigureAwait(false);
                await renewing.ConfigureAwait(false);
            }

            // A stop wins over what the runner made of it.
            outcome = running.Reason switch
            {
                StopReason.Cancelled => new JobOutcome(JobStatus.Cancelled, outcome?.Summary, "cancelled"),
                StopReason.TimedOut => new JobOutcome(JobStatus.TimedOut, outcome?.Summary, "timeout",
                    $"The job ran longer than its limits.timeout_s ({run.Request.Limits?.TimeoutS} s)."),
                _ => outcome ?? JobOutcome.Failed("error", "The run ended without an outcome."),
            };

            await EndAsync(run, running, outcome).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogRunFailed(logger, job.Id, e);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            running.Dispose();
            hub.Notify(job.Id);
            Wake();
        }
    }

    /// <summary>Records the end: a final status, or (on shutdown) the lease handed back. Nothing when the lease was lost.</summary>
    private async Task EndAsync(JobRun run, RunningJob running, JobOutcome outcome)
    {
        var id = run.Job.Id;
        if (running.Reason == StopReason.LeaseLost)
        {
            LogLeaseLost(logger, id);
            return;
        }

        if (running.Reason == StopReason.Shutdown)
        {
            if (await run.AppendAsync("status", new { status = JobStatus.Queued, reason = "shutdown" }).ConfigureAwait(false) is not null)
            {
                await store.ReleaseAsync(id, run.Owner).ConfigureAwait(false);
            }

            return;
        }

        if (await run.AppendAsync("status", new { status = outcome.Status, reason = outcome.Reason, summary = outcome.Summary, error = outcome.Error })
            .ConfigureAwait(false) is null)
        {
            return;
        }

        await store.FinishAsync(id, run.Owner, outcome.Status, time.GetUtcNow(), outcome.Summary, outcome.Reason, outcome.Error).ConfigureAwait(false);
        LogFinished(logger, id, outcome.Status, outcome.Reason);
    }

    /// <summary>Renews the lease every heartbeat; stops the run when the lease is gone or a cancel was asked for.</summary>
    private async Task RenewAsync(RunningJob running, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.Heartbeat, time, cancellationToken).ConfigureAwait(false);
                var job = await store.RenewAsync(running.Job.Id, running.Job.LeaseOwner!, time.GetUtcNow() + options.Lease, cancellationToken).ConfigureAwait(false);
                if (job is null)
                {
                    running.Stop(StopReason.LeaseLost);
                    return;
                }

                if (job.CancelRequested)
                {
                    running.Stop(StopReason.Cancelled);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
        catch (Exception e)
        {
            // The store is unreachable: keep running; the lease expires if this lasts, and the run then stops.
            LogQueueFailed(logger, e);
        }
    }

    private void OnCancelRequested(string jobId)
    {
        if (_running.TryGetValue(jobId, out var running))
        {
            running.Stop(StopReason.Cancelled);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} started (attempt {Attempt})")]
    private static partial void LogStarted(ILogger logger, string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status} ({Reason})")]
    private static partial void LogFinished(ILogger logger, string jobId, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its lease was lost; another worker may run it")]
    private static partial void LogLeaseLost(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}'s worker stopped answering; the job is now {Status} (after {Attempts} attempts)")]
    private static partial void LogRecovered(ILogger logger, string jobId, string status, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its run stopped ({Reason})")]
    private static partial void LogRunStopped(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed")]
    private static partial void LogRunFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The job queue could not be read")]
    private static partial void LogQueueFailed(ILogger logger, Exception exception);

    private enum StopReason
    {
        Cancelled,
        TimedOut,
        LeaseLost,
        Shutdown,
    }

    /// <summary>A job this worker runs: its token, and why it was stopped (the first reason wins).</summary>
    private sealed class RunningJob(Job job) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private ITimer? _timeout;
        private int _reason = -1;

        public Job Job { get; } = job;

        public Task Completion { get; set; } = Task.CompletedTask;

        public CancellationToken Token => _stop.Token;

        public StopReason? Reason => _reason < 0 ? null : (StopReason)Volatile.Read(ref _reason);

        public void Stop(StopReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) == -1)
            {
                try
                {
                    _stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // already over
                }
            }
        }

        public void StopAfter(TimeSpan delay, TimeProvider time) =>
            _timeout = time.CreateTimer(_ => Stop(StopReason.TimedOut), null, delay, Timeout.InfiniteTimeSpan);

        public void Dispose()
        {
            _timeout?.Dispose();
            _stop.Dispose();
        }
    }
}
