using System.Globalization;
using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Mvc;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Sandboxes;
using Runable.Orchestrator.Workspaces;

namespace Runable.Orchestrator.Jobs;

/// <summary>The jobs routes under <c>/v1</c>: submit, list, get, cancel, message, and the event log (JSON or live SSE).</summary>
public static class JobEndpoints
{
    public static RouteGroupBuilder MapJobEndpoints(this RouteGroupBuilder v1, RequestSizeLimitAttribute jsonLimit)
    {
        ArgumentNullException.ThrowIfNull(v1);
        var jobs = v1.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("", async (HttpContext context, JobService service, SubmitJobRequest? request) =>
        {
            var caller = context.Require(Caller.JobsWrite);
            var key = context.Request.Headers["Idempotency-Key"].ToString();
            var (job, created) = await service.SubmitAsync(caller, request ?? new SubmitJobRequest(), key.Length == 0 ? null : key, context.RequestAborted);
            return created ? Results.Created($"/v1/jobs/{job.Id}", JobInfo.From(job)) : Results.Ok(JobInfo.From(job));
        }).WithMetadata(jsonLimit).WithSummary("Queue a job: the task, its workspace, model, limits and sandbox (Idempotency-Key makes a retry safe).");

        jobs.MapGet("", async (HttpContext context, JobService service, string? status, string? label, int? limit, string? cursor) =>
        {
            var (items, next) = await service.ListAsync(context.Require(Caller.JobsRead), status, label, limit, cursor, context.RequestAborted);
            return Results.Ok(new JobPage([.. items.Select(JobInfo.From)], next));
        }).WithSummary("The key's tenant's jobs, newest first, a page at a time (pass next_cursor back as cursor).");

        jobs.MapGet("/{id}", async (HttpContext context, JobService service, string id) =>
            Results.Ok(JobInfo.From(await service.GetAsync(context.Require(Caller.JobsRead), id, context.RequestAborted))))
            .WithSummary("One job: status, usage, result.");

        jobs.MapPost("/{id}/cancel", async (HttpContext context, JobService service, string id) =>
            Results.Accepted($"/v1/jobs/{id}", JobInfo.From(await service.CancelAsync(context.Require(Caller.JobsWrite), id, context.RequestAborted))))
            .WithSummary("Stop a job: a queued one at once, a running one at its worker's next move.");

        jobs.MapPost("/{id}/messages", async (HttpContext context, JobService service, string id, JobMessageRequest? request) =>
        {
            var appended = await service.MessageAsync(context.Require(Caller.JobsWrite), id, request?.Text, context.RequestAborted);
            return Results.Accepted($"/v1/jobs/{id}/events?after={appended.Seq - 1}", appended);
        }).WithMetadata(jsonLimit).WithSummary("Tell the running agent something; it reads the message before its next step.");

        jobs.MapGet("/{id}/events", EventsAsync)
            .WithSummary("The job's event log after 'after': JSON, or with 'Accept: text/event-stream' a live stream resumable with Last-Event-ID.");

        jobs.MapGet("/{id}/artifacts", async (HttpContext context, JobService service, ArtifactStore artifacts, string id) =>
            Results.Ok(artifacts.List((await service.GetAsync(context.Require(Caller.JobsRead), id, context.RequestAborted)).Id)))
            .WithSummary("The job's artifacts: diff.patch, workspace.tar.gz, trajectory.jsonl (saved when the job ends).");
        jobs.MapGet("/{id}/artifacts/{name}", async (HttpContext context, JobService service, ArtifactStore artifacts, string id, string name) =>
        {
            var job = await service.GetAsync(context.Require(Caller.JobsRead), id, context.RequestAborted);
            var info = artifacts.Get(job.Id, name);
            return Results.Stream(artifacts.OpenRead(job.Id, name), ArtifactStore.ContentType(name), $"{job.Id}-{name}", info.CreatedAt);
        }).WithSummary("One artifact of the job, as a download.");

        jobs.Map("/{id}/box/{**path}", (HttpContext context, JobService service, SandboxService sandboxes, BoxProxy proxy, string id, string? path) =>
            ForwardToBoxAsync(context, service, sandboxes, proxy, id, path ?? "", Caller.JobsWrite)).ExcludeFromDescription();
        return v1;
    }

    /// <summary>
    /// Forwards a request to the box of the job's sandbox (with <c>jobs:write</c> for anything that may run commands).
    /// 409 while the job has no sandbox yet, or once it is gone.
    /// </summary>
    public static async Task ForwardToBoxAsync(HttpContext context, JobService service, SandboxService sandboxes, BoxProxy proxy, string id, string path,
        string scope)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Require(scope);
        var job = await service.GetAsync(caller, id, context.RequestAborted);
        if (job.SandboxId is not { } sandboxId || !sandboxes.TryFind(caller, sandboxId, out var sandbox))
        {
            throw new OrchestratorException(409, "job_has_no_sandbox",
                $"Job {id} is {job.Status} and has no running sandbox{(job.SandboxId is null ? " yet" : " any more")}; its artifacts stay downloadable.");
        }

        using (sandboxes.Activity(caller, sandboxId))
        {
            await proxy.ForwardAsync(context, sandbox, path);
        }
    }

    private static async Task<IResult> EventsAsync(HttpContext context, JobService service, string id, long? after, int? limit)
    {
        var caller = context.Require(Caller.JobsRead);
        var from = after ?? 0;
        if (long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var lastEventId))
        {
            from = lastEventId;
        }

        if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Ok(await service.EventsAsync(caller, id, from, limit, context.RequestAborted));
        }

        // Checked before the stream starts, so an unknown job is a 404 and not an empty stream.
        _ = await service.GetAsync(caller, id, context.RequestAborted);
        return TypedResults.ServerSentEvents(Stream(service.FollowAsync(caller, id, from, context.RequestAborted)));
    }

    private static async IAsyncEnumerable<SseItem<JobEvent>> Stream(IAsyncEnumerable<JobEvent> events)
    {
        await foreach (var e in events.ConfigureAwait(false))
        {
            yield return new SseItem<JobEvent>(e, e.Type) { EventId = e.Seq.ToString(CultureInfo.InvariantCulture) };
        }
    }
}
