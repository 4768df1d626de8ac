using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Orchestrator.Agents.Tools;
using Runable.Orchestrator.Auth;
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
/// on continues from its event log in that sandbox.
/// </summary>
public sealed partial class AgentRunner(SandboxService sandboxes, BoxProxy proxy, ModelCatalog models, WorkspaceSeeder seeder,
    WorkspaceArtifacts artifacts, ArtifactStore artifactStore, AgentOptions options, ILogger<AgentRunner> logger) : IJobRunner
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
        var history = await run.EventsAsync(0, cancellationToken).ConfigureAwait(false);
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
            return await LoopAsync(run, model, tools, resumed ? history : [], usage, cancellationToken).ConfigureAwait(false);
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
        var window = (long?)request.Context?.WindowTokens ?? model.Info.ContextWindow ?? options.DefaultContextWindow;
        var toolsTokens = tools.Functions.Sum(f => (f.Description.Length + f.JsonSchema.GetRawText().Length) / 4);
        var budget = Math.Min(request.Context?.MaxPromptTokens ?? long.MaxValue, window - options.OutputReserve - toolsTokens);
        var chatOptions = new ChatOptions { Tools = [.. tools.Functions], AllowMultipleToolCalls = true, ModelId = model.Info.Spec.Name };

        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, SystemPrompt.For(tools.Workspace, tools.Functions.Select(f => f.Name))),
            new(ChatRole.User, request.Task),
        };
        var lastSeen = Replay(history, messages);
        lastSeen = Math.Max(lastSeen, (await run.EventsAsync(0, cancellationToken).ConfigureAwait(false)).LastOrDefault()?.Seq ?? 0);

        while (true)
        {
            // What the user said since the last step.
            foreach (var e in await run.EventsAsync(lastSeen, cancellationToken).ConfigureAwait(false))
            {
                lastSeen = e.Seq;
                if (e.Type == "message" && e.Data.TryGetProperty("text", out var text))
                {
                    messages.Add(new ChatMessage(ChatRole.User, text.GetString()));
                }
            }

            if (usage.Steps >= maxSteps)
            {
                return new JobOutcome(JobStatus.Failed, null, "max_steps", $"The agent used its {maxSteps} steps (limits.max_steps) without finishing.");
            }

            var response = await model.Client.GetResponseAsync(PromptBudget.Fit(messages, budget), chatOptions, cancellationToken).ConfigureAwait(false);
            var cost = model.Info.CostUsd(response.Usage) ?? 0;
            usage = usage with
            {
                Steps = usage.Steps + 1,
                InputTokens = usage.InputTokens + (response.Usage?.InputTokenCount ?? 0),
                OutputTokens = usage.OutputTokens + (response.Usage?.OutputTokenCount ?? 0),
                CostUsd = usage.CostUsd + cost,
            };

            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            var said = string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextContent>().Select(t => t.Text)).Trim();
            messages.AddRange(response.Messages);

            // The step is in the log before anything of it is done.
            var mask = Masker(request);
            await Log(run, "assistant", new
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
            }, cancellationToken).ConfigureAwait(false);
            await Ensure(run.UpdateAsync(JobStatus.Running, null, usage, cancellationToken)).ConfigureAwait(false);

            if (calls.Count == 0)
            {
                return JobOutcome.Succeeded(said.Length > 0 ? mask(said) : null, "answered");
            }

            var results = await Task.WhenAll(calls.Select(call => CallAsync(run, tools, call, cancellationToken))).ConfigureAwait(false);
            messages.Add(new ChatMessage(ChatRole.Tool, [.. calls.Zip(results, (call, result) => (AIContent)new FunctionResultContent(call.CallId, result.Text))]));
            var images = results.SelectMany(r => r.Images).ToList();
            if (images.Count > 0)
            {
                // Tool messages carry text only with most providers: the images follow as the user's.
                messages.Add(new ChatMessage(ChatRole.User, [new TextContent("The images the tool calls above returned:"), .. images]));
            }

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
    /// The job's environment values as they are masked in its events and logs (the values long enough to be secrets;
    /// the model itself sees tool output unmasked, as the user's commands would).
    /// </summary>
    private static Func<string, string> Masker(SubmitJobRequest request)
    {
        var secrets = (request.Env ?? []).Values.Where(v => v.Length >= 8).Distinct().OrderByDescending(v => v.Length).ToList();
        return text => secrets.Aggregate(text, (masked, secret) => masked.Replace(secret, "***", StringComparison.Ordinal));
    }

    /// <summary>One tool call: logged, run (its failures are observations), its result logged.</summary>
    private static async Task<ToolResult> CallAsync(JobRun run, AgentToolSet tools, FunctionCallContent call, CancellationToken cancellationToken)
    {
        var mask = Masker(run.Request);
        await Log(run, "tool_call", new { id = call.CallId, name = call.Name, arguments = Masked(call.Arguments, mask) }, cancellationToken).ConfigureAwait(false);
        var result = await tools.InvokeAsync(call.Name, call.Arguments?.ToDictionary(a => a.Key, a => a.Value), cancellationToken).ConfigureAwait(false);
        await Log(run, "tool_result", new
        {
            id = call.CallId,
            name = call.Name,
            text = mask(result.Text),
            is_error = result.IsError,
            truncated = result.Truncated,
            full_output_path = result.FullOutputPath,
            images = result.Images.Count,
            duration_ms = (long)result.Duration.TotalMilliseconds,
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>The arguments of a call with secrets masked in their text, for the log.</summary>
    private static Dictionary<string, string>? Masked(IDictionary<string, object?>? arguments, Func<string, string> mask) =>
        arguments?.ToDictionary(a => a.Key, a => mask(a.Value is JsonElement { ValueKind: JsonValueKind.String } s ? s.GetString() ?? "" : a.Value?.ToString() ?? ""));

    /// <summary>
    /// Rebuilds the conversation of an earlier attempt from its events; a call whose result was never logged gets
    /// one saying so, so every call keeps its result. Returns the last event's sequence number.
    /// </summary>
    private static long Replay(IReadOnlyList<JobEvent> history, List<ChatMessage> messages)
    {
        var pending = new List<FunctionCallContent>();
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        void Close()
        {
            if (pending.Count > 0)
            {
                messages.Add(new ChatMessage(ChatRole.Tool, [.. pending.Select(c => (AIContent)new FunctionResultContent(c.CallId,
                    results.TryGetValue(c.CallId, out var text) ? text : "Error: the run stopped before this call completed; check its effect before repeating it."))]));
                pending.Clear();
                results.Clear();
            }
        }

        foreach (var e in history)
        {
            switch (e.Type)
            {
                case "assistant":
                    Close();
                    var contents = new List<AIContent>();
                    if (e.Data.GetProperty("text").GetString() is { Length: > 0 } text)
                    {
                        contents.Add(new TextContent(text));
                    }

                    foreach (var call in e.Data.GetProperty("tool_calls").EnumerateArray())
                    {
                        var arguments = call.GetProperty("arguments").ValueKind == JsonValueKind.Object
                            ? call.GetProperty("arguments").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                            : null;
                        var content = new FunctionCallContent(call.GetProperty("id").GetString()!, call.GetProperty("name").GetString()!, arguments);
                        contents.Add(content);
                        pending.Add(content);
                    }

                    messages.Add(new ChatMessage(ChatRole.Assistant, contents));
                    break;
                case "tool_result":
                    results[e.Data.GetProperty("id").GetString()!] = e.Data.GetProperty("text").GetString() ?? "";
                    break;
                case "message":
                    Close();
                    messages.Add(new ChatMessage(ChatRole.User, e.Data.GetProperty("text").GetString()));
                    break;
            }
        }

        Close();
        return history.Count == 0 ? 0 : history[^1].Seq;
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
            foreach (var e in await run.EventsAsync(0, timeout.Token).ConfigureAwait(false))
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
    private static async Task Log(JobRun run, string type, object data, CancellationToken cancellationToken)
    {
        if (await run.AppendAsync(type, data, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new OperationCanceledException("This run lost the job's lease.");
        }
    }

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
