using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Workspaces;

namespace Runable.Orchestrator.Context;

/// <summary>
/// The seed-compatible context routes, reached as <c>/proxy/{job_id}/context/...</c> like the original clients call them:
/// <c>prune {job_id, max_tokens}</c> answers with the context manager's view of the job for that budget, rebuilt from
/// the job's events; <c>save {name?, messages?}</c> keeps a snapshot (the job's current view, or the messages sent) as
/// the job's artifact <c>context-NAME.json</c>; <c>load {name?}</c> returns it.
/// </summary>
public static partial class ContextEndpoints
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Maps the three routes (before <c>/proxy/{job_id}/{tool}/{action}</c>, which they are more specific than).</summary>
    public static IEndpointRouteBuilder MapContextEndpoints(this IEndpointRouteBuilder app, Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute jsonLimit)
    {
        ArgumentNullException.ThrowIfNull(app);
        var context = app.MapGroup("/proxy/{job_id}/context").WithTags("Seed-compatible");
        context.MapPost("/prune", async (HttpContext http, JobService jobs, ModelCatalog models, string job_id, ContextPruneRequest? request) =>
        {
            var caller = http.Require(Caller.JobsRead);
            if (request?.JobId is { } named && named != job_id)
            {
                throw new OrchestratorException(400, "invalid_argument", $"The body names job '{named}' but the path job '{job_id}': send one job.");
            }

            if (request?.MaxTokens is < 1_000 or > 100_000_000)
            {
                throw new OrchestratorException(400, "invalid_argument", "max_tokens must be between 1000 and 100000000.");
            }

            var (manager, view) = await ViewAsync(caller, jobs, job_id, request?.MaxTokens, http.RequestAborted);
            return Results.Json(Describe(job_id, request?.MaxTokens, manager, view), s_json);
        }).WithMetadata(jsonLimit).WithSummary("The context manager's view of the job's prompt for a budget of max_tokens.");

        context.MapPost("/save", async (HttpContext http, JobService jobs, ArtifactStore artifacts, string job_id, ContextSaveRequest? request) =>
        {
            var caller = http.Require(Caller.JobsWrite);
            var name = Name(request?.Name);
            JsonNode messages;
            long? tokens = null;
            if (request?.Messages is { ValueKind: JsonValueKind.Array } sent)
            {
                _ = await jobs.GetAsync(caller, job_id, http.RequestAborted).ConfigureAwait(false);
                messages = JsonNode.Parse(sent.GetRawText())!;
            }
            else
            {
                var (_, view) = await ViewAsync(caller, jobs, job_id, null, http.RequestAborted);
                messages = ContextWire.ToOpenAI(view.Messages);
                tokens = view.Tokens;
            }

            var snapshot = new JsonObject
            {
                ["job_id"] = job_id, ["name"] = name, ["saved_at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["tokens"] = tokens, ["messages"] = messages,
            };
            var artifact = $"context-{name}.json";
            await artifacts.SaveAsync(job_id, artifact, new MemoryStream(Encoding.UTF8.GetBytes(snapshot.ToJsonString())), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new { job_id, name, artifact, messages = ((JsonArray)messages).Count, tokens }, s_json);
        }).WithMetadata(jsonLimit).WithSummary("Saves the job's current context view (or the messages sent) as the artifact context-NAME.json.");

        context.MapMethods("/load", ["GET", "POST"], async (HttpContext http, JobService jobs, ArtifactStore artifacts, string job_id, string? name) =>
        {
            var caller = http.Require(Caller.JobsRead);
            if (name is null && http.Request.Method == "POST" && http.Request.ContentLength > 0)
            {
                name = (await http.Request.ReadFromJsonAsync<ContextSaveRequest>(s_json, http.RequestAborted).ConfigureAwait(false))?.Name;
            }

            var job = await jobs.GetAsync(caller, job_id, http.RequestAborted).ConfigureAwait(false);
            var artifact = $"context-{Name(name)}.json";
            if (!artifacts.List(job.Id).Any(a => a.Name == artifact))
            {
                throw new OrchestratorException(404, "context_not_found", $"Job {job.Id} has no saved context '{Name(name)}': save one with POST /proxy/{job.Id}/context/save first.");
            }

            return Results.Stream(artifacts.OpenRead(job.Id, artifact), "application/json");
        }).WithMetadata(jsonLimit).WithSummary("A context saved with /context/save (name, or 'default').");
        return app;
    }

    /// <summary>
    /// The job's context rebuilt from its events as the runner's manager had it (its settings, system prompt and decisions
    /// from its <c>context</c> events), then fitted to <paramref name="maxTokens"/> when given, without asking a model:
    /// what would need a new summary is left out and named instead.
    /// </summary>
    public static async Task<(ContextManager Manager, ContextView View)> ViewAsync(Caller caller, JobService jobs, string jobId, long? maxTokens,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var job = await jobs.GetAsync(caller, jobId, cancellationToken).ConfigureAwait(false);
        var events = new List<JobEvent>();
        for (long after = 0; ;)
        {
            var page = await jobs.EventsAsync(caller, job.Id, after, JobService.MaxEventsPerRead, cancellationToken).ConfigureAwait(false);
            events.AddRange(page);
            if (page.Count < JobService.MaxEventsPerRead)
            {
                break;
            }

            after = page[^1].Seq;
        }

        var start = events.FindLastIndex(e => e.Type == "workspace") + 1;
        var run = events.Skip(start).ToList();
        var settingsEvent = run.FirstOrDefault(e => e.Type == "context" && e.Data.TryGetProperty("action", out var a) && a.GetString() == ContextDecision.SettingsAction)
            ?? throw new OrchestratorException(409, "context_not_ready", $"Job {job.Id} has not started its agent yet, so it has no context: try again once it runs.");
        var recorded = settingsEvent.Data.GetProperty("settings");
        long Number(string name, long fallback) => recorded.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : fallback;
        var request = JobService.Request(job);
        var window = Number("window_tokens", 128_000);
        var settings = ContextSettings.For(window, null, (int)Number("output_reserve_tokens", 8_192), request.Context, tiktokenModel: true) with
        {
            OutputReserveTokens = Number("output_reserve_tokens", 8_192),
            KeepExchanges = (int)Number("keep_exchanges", 3),
            MaxPromptTokens = maxTokens ?? request.Context?.MaxPromptTokens,
        };
        var counter = recorded.TryGetProperty("encoding", out var encoding) && encoding.GetString() == TokenCounter.Cl100k.Encoding ? TokenCounter.Cl100k : TokenCounter.O200k;
        var system = recorded.TryGetProperty("system_prompt", out var prompt) ? prompt.GetString() ?? "" : "";
        var manager = new ContextManager(settings, counter, system, request.Task ?? "", (int)Number("tool_tokens", 0), summarizer: null);
        manager.Replay(run);
        try
        {
            return (manager, await manager.PrepareAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (ContextBudgetException e)
        {
            throw new OrchestratorException(422, "context_too_small", e.Message);
        }
    }

    private static object Describe(string jobId, long? maxTokens, ContextManager manager, ContextView view) => new
    {
        job_id = jobId,
        max_tokens = maxTokens,
        budget = view.Budget,
        tokens = view.Tokens,
        tool_tokens = view.ToolTokens,
        history_tokens = manager.HistoryTokens,
        keep_exchanges = manager.KeepExchanges,
        summary = manager.Summary,
        units = manager.Units.Select(u => new
        {
            seq = u.Seq, kind = JsonNamingPolicy.SnakeCaseLower.ConvertName(u.Kind.ToString()), view = JsonNamingPolicy.SnakeCaseLower.ConvertName(u.View.ToString()),
            tokens = u.Tokens, shown_tokens = u.IsPinned ? u.Tokens : u.ShownTokens,
        }),
        messages = ContextWire.ToOpenAI(view.Messages),
    };

    private static string Name(string? name) => name is null or "" ? "default" : SnapshotName().IsMatch(name) ? name
        : throw new OrchestratorException(400, "invalid_argument", $"'{name}' is not a context name: 1 to 64 letters, digits, '_' or '-'.");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SnapshotName();
}

/// <summary>The body of <c>/proxy/{job_id}/context/prune</c>.</summary>
public sealed record ContextPruneRequest
{
    public string? JobId { get; init; }

    public long? MaxTokens { get; init; }
}

/// <summary>The body of <c>/proxy/{job_id}/context/save</c> (and of <c>load</c>, which reads only the name).</summary>
public sealed record ContextSaveRequest
{
    public string? Name { get; init; }

    /// <summary>Messages to keep as they are (OpenAI Chat shape); the job's current view when absent.</summary>
    public JsonElement? Messages { get; init; }
}
