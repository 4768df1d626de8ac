using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Context;
using Runable.Orchestrator.Sandboxes;

namespace Runable.Orchestrator.Jobs;

/// <summary>
/// The routes of the original single-job API, on top of jobs: <c>POST /schedule</c>, <c>GET /status/{job_id}</c>,
/// <c>/proxy/{job_id}/{tool}/{action}</c> and <c>GET /download/{job_id}</c>. Same keys and tenancy as <c>/v1</c>.
/// </summary>
public static class SeedEndpoints
{
    public static IEndpointRouteBuilder MapSeedEndpoints(this IEndpointRouteBuilder app, Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute jsonLimit)
    {
        ArgumentNullException.ThrowIfNull(app);
        var seed = app.MapGroup("").WithTags("Seed-compatible");
        seed.MapPost("/schedule", async (HttpContext context, JobService service, SubmitJobRequest? request) =>
        {
            var key = context.Request.Headers["Idempotency-Key"].ToString();
            var (job, _) = await service.SubmitAsync(context.Require(Caller.JobsWrite), request ?? new SubmitJobRequest(), key.Length == 0 ? null : key,
                context.RequestAborted);
            return Results.Ok(new { job_id = job.Id });
        }).WithMetadata(jsonLimit).WithSummary("Queue a job (as POST /v1/jobs) and return its id.");

        seed.MapGet("/status/{job_id}", async (HttpContext context, JobService service, string job_id) =>
        {
            var job = await service.GetAsync(context.Require(Caller.JobsRead), job_id, context.RequestAborted);
            return Results.Ok(new { status = job.Status, download = $"/download/{job.Id}", vm_handle = job.SandboxId, error = job.Error });
        }).WithSummary("A job's status, where to download its workspace, and its sandbox.");

        app.MapContextEndpoints(jsonLimit);
        seed.MapMethods("/proxy/{job_id}/{tool}/{action}", ["GET", "POST"],
            (HttpContext context, JobService service, SandboxService sandboxes, BoxProxy proxy, string job_id, string tool, string action) =>
                JobEndpoints.ForwardToBoxAsync(context, service, sandboxes, proxy, job_id, $"{tool}/{action}", Caller.JobsWrite))
            .WithSummary("The job's box route /{tool}/{action}, query and body passed through.");

        seed.MapGet("/download/{job_id}", async (HttpContext context, JobService service, SandboxService sandboxes, BoxProxy proxy,
            Workspaces.ArtifactStore artifacts, string job_id) =>
        {
            // The archive saved when the job ended; before that, the workspace as it is now in the job's sandbox.
            var job = await service.GetAsync(context.Require(Caller.JobsRead), job_id, context.RequestAborted);
            if (artifacts.List(job.Id).Any(a => a.Name == Workspaces.WorkspaceArtifacts.WorkspaceArchiveName))
            {
                await Results.Stream(artifacts.OpenRead(job.Id, Workspaces.WorkspaceArtifacts.WorkspaceArchiveName), "application/gzip", $"{job.Id}-workspace.tar.gz")
                    .ExecuteAsync(context);
                return;
            }

            await JobEndpoints.ForwardToBoxAsync(context, service, sandboxes, proxy, job_id, "files/archive", Caller.JobsRead);
        }).WithSummary("The job's workspace as tar.gz: saved when the job ended, or from its sandbox while it runs.");
        return app;
    }
}
