using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Orchestrator.Agents.Tools;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Context;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Jobs;
using Runable.Orchestrator.Models;
using Runable.Orchestrator.Sandboxes;
using Runable.Orchestrator.Workspaces;

namespace Runable.Orchestrator.Agents;

/// <summary>
/// Runs a job as an agent: a sandbox of the job's own (its tenant's, visible in <c>/v1/sandboxes</c>), the workspace
/// seeded and given a git baseline, then the loop — the model is asked for its next step, the step is logged before
/// it is acted on, the tool calls (in parallel) run in the sandbox, their results are logged and go back to the
/// model — until the agent calls <c>finish</c>, answers without a tool call, or a limit is reached. Messages the user
/// sends meanwhile join the conversation before the next step. Whatever the end, the diff, the workspace and the
/// trajectory are saved as the job's artifacts. A job whose earlier attempt lost its lease while its sandbox lived
/// on continues from its event log in that sandbox. The prompt of each step is the <see cref="ContextManager"/>'s view of
/// the log, within the model's budget; with a <see cref="RecallIndex"/> the agent also gets <c>recall</c> and
/// <c>read_event</c> over its whole history.
/// </summary>
public sealed partial class AgentRunner(SandboxService sandboxes, BoxProxy proxy, ModelCatalog models, WorkspaceSeeder seeder,
    WorkspaceArtifacts artifacts, ArtifactStore artifactStore, AgentOptions options, ILogger<AgentRunner> logger, RecallIndex? recall = null) : IJobRunner
{
    /// <summary>The trajectory artifact: every event of the job, one JSON object per line.</summary>
    public const string TrajectoryName = "trajectory.jsonl";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<JobOutcome> RunAsync(JobRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var request = run.Request;
        var model = models.Resolve(request.Model);
        var caller = new Caller("job:" + run.Job.Id, run.Job.Tenant, new HashSet<string>(StringComparer.Ordinal) { Caller.SandboxesScope });
        var usage = run.Job.Usage;
        var history = await AllEventsAsync(run, 0, cancellationToken).ConfigureAwait(false);
        var resumed = run.Job.SandboxId is { } previous && sandboxes.TryFind(caller, previous, out _) && Baseline(history) is not null;

        string sandboxId;
        if (resumed)
        {
            sandboxId = run.Job.SandboxId!;
        }
        else
        {
            var created = await sandboxes.CreateAsync(caller, new CreateSandboxRequest
            {
                Limits = new LimitsRequest(request.Limits?.MemoryMb, null, request.Limits?.Cpus, null),
                Network = request.Network,
                IdleTimeoutS = options.KeepSandbox.TotalSeconds,
            }, cancellationToken).ConfigureAwait(false);
            sandboxId = created.Id;
            await Ensure(run.UpdateAsync(JobStatus.Starting, sandboxId, usage, cancellationToken)).ConfigureAwait(false);
        }

        using var box = proxy.Client(sandboxes.Find(caller, sandboxId));
        string? baseline = null;
        try
        {
            if (resumed)
            {
                baseline = Baseline(history)!;
                await Log(run, "resumed", new { sandbox_id = sandboxId, from_event = history[^1].Seq }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                baseline = await seeder.SeedAsync(box, run.Job.Tenant, WorkspaceSource.From(request.Workspace), cancellationToken).ConfigureAwait(false);
                await Log(run, "workspace", new { sandbox_id = sandboxId, baseline }, cancellationToken).ConfigureAwait(false);
            }

            var env = request.Env ?? [];
            await using var tools = await AgentToolSet.CreateAsync(box, options.Tools with { Env = env }, cancellationToken: cancellationToken).ConfigureAwait(false);
            await Ensure(run.UpdateAsync(JobStatus.Running, sandboxId, usage, cancellationToken)).ConfigureAwait(false);
            await Log(run, "status", new { status = JobStatus.Running }, cancellationToken).ConfigureAwait(false);
            return await LoopAsync(run, model, tools, resumed ? SinceWorkspace(history) : [], usage, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (baseline is not null)
            {
                await SaveArtifactsAsync(run, box, baseline).ConfigureAwait(false);
            }
        }
    }

    private async Task<JobOutcome> LoopAsync(JobRun run, ResolvedModel model, AgentToolSet tools, IReadOnlyList<JobEvent> history, JobUsage usage,
        CancellationToken cancellationToken)
    {
        var request = run.Request;
        var maxSteps = request.Limits?.MaxSteps ?? options.MaxSteps;
        var recallTools = recall is null ? [] : RecallTools.Create(recall, run.Job.Tenant, run.Job.Id);
        IReadOnlyList<AIFunction> functions = [.. tools.Functions, .. recallTools];
        var chatOptions = new ChatOptions { Tools = [.. functions], AllowMultipleToolCalls = true, ModelId = model.Info.Spec.Name };
        var context = CreateContext(run, model, tools, functions);
        if (history.Count == 0)
        {
            await LogContext(run, context.SettingsDecision(), cancellationToken).ConfigureAwait(false);
        }

        context.Replay(history);
        var lastSeen = (await AllEventsAsync(run, history.Count == 0 ? 0 : history[^1].Seq, cancellationToken).ConfigureAwait(false)).LastOrDefault()?.Seq
            ?? (history.Count == 0 ? 0 : history[^1].Seq);

        while (true)
        {
            // What the user said since the last step.
            foreach (var e in await AllEventsAsync(run, lastSeen, cancellationToken).ConfigureAwait(false))
            {
                lastSeen = e.Seq;
                if (e.Type == "message" && e.Data.TryGetProperty("text", out var text) && text.GetString() is { } message)
                {
                    context.AddUserMessage(e.Seq, message);
                }
            }

            if (usage.Steps >= maxSteps)
            {
                return new JobOutcome(JobStatus.Failed, null, "max_steps", $"The agent used its {maxSteps} steps (limits.max_steps) without finishing.");
            }

            ContextView view;
            ChatResponse response;
            try
            {
                while (true)
                {
                    view = await context.PrepareAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        response = await model.Client.GetResponseAsync(view.Messages, chatOptions, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (ContextOverflow.IsContextTooLong(e, cancellationToken, out var reason))
                    {
                        // The provider counts more than the calibration expected: shrink and ask again (the circuit breaker stops a loop).
                        await context.ShrinkAfterOverflowAsync(reason, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (ContextBudgetException e)
            {
                return new JobOutcome(JobStatus.Failed, null, "context_overflow", e.Message);
            }
            catch (ContextInvariantException e)
            {
                return new JobOutcome(JobStatus.Failed, null, "context_invalid", e.Message);
            }

            var cost = model.Info.CostUsd(response.Usage) ?? 0;
            usage = usage with
            {
                Steps = usage.Steps + 1,
                InputTokens = usage.InputTokens + (response.Usage?.InputTokenCount ?? 0),
                OutputTokens = usage.OutputTokens + (response.Usage?.OutputTokenCount ?? 0),
                CostUsd = usage.CostUsd + cost,
            };
            context.ObserveUsage(response.Usage?.InputTokenCount ?? 0, view.RequestTokens);

            var contents = response.Messages.SelectMany(m => m.Contents).ToList();
            var calls = contents.OfType<FunctionCallContent>().ToList();
            var said = string.Concat(contents.OfType<TextContent>().Select(t => t.Text)).Trim();

            // The step is in the log before anything of it is done.
            var mask = Masker(request);
            var step = await Log(run, "assistant", new
            {
                step = usage.Steps,
                text = mask(said),
                tool_calls = calls.Select(c => new { id = c.CallId, name = c.Name, arguments = Masked(c.Arguments, mask) }),
            }, cancellationToken).ConfigureAwait(false);
            await Log(run, "usage", new
            {
                step = usage.Steps,
                input_tokens = response.Usage?.InputTokenCount ?? 0,
                output_tokens = response.Usage?.OutputTokenCount ?? 0,
                cost_usd = cost,
                total_input_tokens = usage.InputTokens,
                total_output_tokens = usage.OutputTokens,
                total_cost_usd = usage.CostUsd,
                prompt_tokens_estimate = view.RequestTokens,
                prompt_budget = view.Budget,
                history_tokens = context.HistoryTokens,
            }, cancellationToken).ConfigureAwait(false);
            await Ensure(run.UpdateAsync(JobStatus.Running, null, usage, cancellationToken)).ConfigureAwait(false);

            if (calls.Count == 0)
            {
                context.AddAssistant(step.Seq, contents);
                return JobOutcome.Succeeded(said.Length > 0 ? mask(said) : null, "answered");
            }

            var outcomes = await Task.WhenAll(calls.Select(call => CallAsync(run, tools, recallTools, call, cancellationToken))).ConfigureAwait(false);
            context.AddExchange(step.Seq, contents, outcomes);

            if (tools.Finished is { } finished)
            {
                var summary = mask(finished.Summary);
                return finished.Success
                    ? JobOutcome.Succeeded(summary)
                    : new JobOutcome(JobStatus.Failed, summary, "gave_up", "The agent finished without completing the task: " + summary);
            }

            if (request.Limits?.MaxTokens is { } maxTokens && usage.InputTokens + usage.OutputTokens >= maxTokens)
            {
                return new JobOutcome(JobStatus.Failed, null, "max_tokens", $"The job used {usage.InputTokens + usage.OutputTokens} tokens (limits.max_tokens: {maxTokens}).");
            }

            if (request.Limits?.MaxCostUsd is { } maxCost && usage.CostUsd >= (decimal)maxCost)
            {
                return new JobOutcome(JobStatus.Failed, null, "max_cost", $"The job cost ${usage.CostUsd:0.####} (limits.max_cost_usd: {maxCost}).");
            }
        }
    }

    /// <summary>
    /// The job's context manager: its settings from the job's <c>context</c> and the model's window, token counts in the
    /// model's encoding, summaries by the job's model or <c>context.summarizer_model</c>, decisions logged as <c>context</c> events.
    /// </summary>
    private ContextManager CreateContext(JobRun run, ResolvedModel model, AgentToolSet tools, IReadOnlyList<AIFunction> functions)
    {
        var request = run.Request;
        var window = (long?)request.Context?.WindowTokens ?? model.Info.ContextWindow ?? options.DefaultContextWindow;
        var counter = TokenCounter.ForModel(model.Info.Spec.Name);
        var settings = ContextSettings.For(window, model.Info.MaxOutputTokens, options.OutputReserve, request.Context,
            tiktokenModel: model.Info.Spec.Provider == ModelProvider.OpenAI && model.Info.Spec.Name.StartsWith("gpt", StringComparison.OrdinalIgnoreCase));
        var summarizerModel = request.Context?.SummarizerModel is { } named ? models.Resolve(named) : model;
        var summarizer = new ChatSummarizer(summarizerModel.Client, summarizerModel.Info.Spec.Name, summarizerModel.Info.Spec.ToString());
        var system = SystemPrompt.For(tools.Workspace, functions.Select(f => f.Name)) + (functions.Any(f => f.Name == RecallTools.RecallName) ? ContextNote : "");
        return new ContextManager(settings, counter, system, request.Task!, counter.CountTools(functions), summarizer,
            (decision, token) => LogContext(run, decision, token));
    }

    /// <summary>What the system prompt adds when the agent can recall its history.</summary>
    private const string ContextNote = """

        Older tool outputs are replaced by one-line notes such as [tool output #123: exit 1, 812 lines — recall it with read_event],
        and older work by a summary. Nothing is lost: recall(query) searches everything this job did and read_event(id) reads an
        event (the #number) in full. Use them instead of re-running a command to see its output again.
        """;

    private static Task LogContext(JobRun run, ContextDecision decision, CancellationToken cancellationToken) =>
        Log(run, "context", decision, cancellationToken);

    /// <summary>
    /// The job's environment values as they are masked in its events and logs (the values long enough to be secrets;
    /// the model itself sees tool output unmasked, as the user's commands would).
    /// </summary>
    private static Func<string, string> Masker(SubmitJobRequest request)
    {
        var secrets = (request.Env ?? []).Values.Where(v => v.Length >= 8).Distinct().OrderByDescending(v => v.Length).ToList();
        return text => secrets.Aggregate(text, (masked, secret) => masked.Replace(secret, "***", StringComparison.Ordinal));
    }

    /// <summary>One tool call: logged, run (its failures are observations), its result logged.</summary>
    private static async Task<ToolOutcome> CallAsync(JobRun run, AgentToolSet tools, IReadOnlyList<AIFunction> recallTools, FunctionCallContent call,
        CancellationToken cancellationToken)
    {
        var mask = Masker(run.Request);
        var logged = await Log(run, "tool_call", new { id = call.CallId, name = call.Name, arguments = Masked(call.Arguments, mask) }, cancellationToken).ConfigureAwait(false);
        var result = recallTools.FirstOrDefault(f => f.Name == call.Name) is { } function
            ? await RecallAsync(function, call, cancellationToken).ConfigureAwait(false)
            : await tools.InvokeAsync(call.Name, call.Arguments?.ToDictionary(a => a.Key, a => a.Value), cancellationToken).ConfigureAwait(false);
        var resultEvent = await Log(run, "tool_result", new
        {
            id = call.CallId,
            name = call.Name,
            text = mask(result.Text),
            is_error = result.IsError,
            truncated = result.Truncated,
            full_output_path = result.FullOutputPath,
            images = result.Images.Count,
            image_data = InlineImages(result.Images),
            duration_ms = (long)result.Duration.TotalMilliseconds,
        }, cancellationToken).ConfigureAwait(false);
        return new ToolOutcome(call.CallId, call.Name, logged.Seq, resultEvent.Seq, result.Text, result.IsError, result.Images);
    }

    /// <summary>The largest image a tool result keeps in its event, and how many it keeps.</summary>
    private const int MaxLoggedImageBytes = 512 * 1024, MaxLoggedImages = 4;

    /// <summary>
    /// The images of a result as its event keeps them, for the trajectory and the UI (<c>images</c> keeps their count):
    /// the first few, each up to a size, as base64; null when there are none.
    /// </summary>
    private static object[]? InlineImages(IReadOnlyList<DataContent> images) =>
        images.Count == 0 ? null :
        [.. images.Where(i => i.Data.Length <= MaxLoggedImageBytes).Take(MaxLoggedImages)
            .Select(i => new { media_type = i.MediaType, data = Convert.ToBase64String(i.Data.Span) })];

    /// <summary>A <c>recall</c> or <c>read_event</c> call; its answers to bad arguments are <c>Error:</c> texts already.</summary>
    private static async Task<ToolResult> RecallAsync(AIFunction function, FunctionCallContent call, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var text = await function.InvokeAsync(new AIFunctionArguments(call.Arguments ?? new Dictionary<string, object?>()), cancellationToken).ConfigureAwait(false) switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } s => s.GetString() ?? "",
            var other => other?.ToString() ?? "",
        };
        return new ToolResult
        {
            Tool = call.Name, Text = text, IsError = text.StartsWith("Error:", StringComparison.Ordinal), Duration = System.Diagnostics.Stopwatch.GetElapsedTime(started),
        };
    }

    /// <summary>The arguments of a call with secrets masked in their text, for the log.</summary>
    private static Dictionary<string, string>? Masked(IDictionary<string, object?>? arguments, Func<string, string> mask) =>
        arguments?.ToDictionary(a => a.Key, a => mask(a.Value is JsonElement { ValueKind: JsonValueKind.String } s ? s.GetString() ?? "" : a.Value?.ToString() ?? ""));

    /// <summary>The events of the current workspace: after the last <c>workspace</c> event (an earlier attempt's sandbox may be gone).</summary>
    private static IReadOnlyList<JobEvent> SinceWorkspace(IReadOnlyList<JobEvent> history)
    {
        var start = history.Count;
        while (start > 0 && history[start - 1].Type != "workspace")
        {
            start--;
        }

        return start == 0 ? history : history.Skip(start).ToList();
    }

    /// <summary>Every event after <paramref name="after"/>, read a page at a time (a long job has many thousands).</summary>
    private static async Task<IReadOnlyList<JobEvent>> AllEventsAsync(JobRun run, long after, CancellationToken cancellationToken)
    {
        var events = new List<JobEvent>();
        while (true)
        {
            var page = await run.EventsAsync(after, cancellationToken).ConfigureAwait(false);
            events.AddRange(page);
            if (page.Count < JobService.MaxEventsPerRead)
            {
                return events;
            }

            after = page[^1].Seq;
        }
    }

    private static string? Baseline(IReadOnlyList<JobEvent> history) =>
        history.LastOrDefault(e => e.Type == "workspace") is { } e && e.Data.TryGetProperty("baseline", out var b) ? b.GetString() : null;

    /// <summary>Saves the diff, the workspace and the trajectory, with their own time limit (the job's token may be spent).</summary>
    private async Task SaveArtifactsAsync(JobRun run, BoxClient box, string baseline)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await artifacts.CollectAsync(box, run.Job.Id, baseline, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || timeout.IsCancellationRequested)
        {
            LogArtifactsFailed(logger, run.Job.Id, e);
            await Log(run, "error", new { message = "The workspace's diff and archive could not be saved: " + e.Message }, CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            var trajectory = new StringBuilder();
            foreach (var e in await AllEventsAsync(run, 0, timeout.Token).ConfigureAwait(false))
            {
                trajectory.AppendLine(JsonSerializer.Serialize(e, s_json));
            }

            await artifactStore.SaveAsync(run.Job.Id, TrajectoryName, new MemoryStream(Encoding.UTF8.GetBytes(trajectory.ToString())), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || timeout.IsCancellationRequested)
        {
            LogArtifactsFailed(logger, run.Job.Id, e);
        }
    }

    /// <summary>Appends an event; a refused append means the lease is gone, and the run stops.</summary>
    private static async Task<JobEvent> Log(JobRun run, string type, object data, CancellationToken cancellationToken) =>
        await run.AppendAsync(type, data, cancellationToken).ConfigureAwait(false)
        ?? throw new OperationCanceledException("This run lost the job's lease.");

    private static async Task Ensure(Task<bool> update)
    {
        if (!await update.ConfigureAwait(false))
        {
            throw new OperationCanceledException("This run lost the job's lease.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: saving its artifacts failed")]
    private static partial void LogArtifactsFailed(ILogger logger, string jobId, Exception exception);
}
