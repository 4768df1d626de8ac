using System.Text.RegularExpressions;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Sandboxes;

namespace Runable.Orchestrator.Jobs;

/// <summary>The body of <c>POST /v1/jobs</c>: the task, and optionally where its workspace comes from, the model, limits and sandbox.</summary>
public sealed partial record SubmitJobRequest
{
    /// <summary>The longest task text.</summary>
    public const int MaxTaskLength = 200_000;

    public string? Task { get; init; }

    public JobWorkspaceRequest? Workspace { get; init; }

    /// <summary>The model (<c>provider:name</c> or a bare name); the orchestrator's default when absent.</summary>
    public string? Model { get; init; }

    public JobLimitsRequest? Limits { get; init; }

    public string? Backend { get; init; }

    public NetworkRequest? Network { get; init; }

    public Dictionary<string, string>? Env { get; init; }

    public List<string>? Labels { get; init; }

    public int? Priority { get; init; }

    public JobContextRequest? Context { get; init; }

    /// <summary>Checks every field (the sandbox's against <paramref name="backendName"/>); a bad one is a 400 that says what to send instead.</summary>
    public void Validate(string backendName)
    {
        if (string.IsNullOrWhiteSpace(Task))
        {
            throw Invalid("'task' is required: what the agent should do, in words.");
        }

        if (Task.Length > MaxTaskLength)
        {
            throw Invalid($"'task' is {Task.Length} characters; at most {MaxTaskLength}. Put long material in the workspace instead.");
        }

        if (Workspace is { } workspace)
        {
            var sources = (workspace.GitUrl is null ? 0 : 1) + (workspace.ArchiveId is null ? 0 : 1);
            if (sources > 1)
            {
                throw Invalid("workspace takes one source: 'git_url' or 'archive_id', not both.");
            }

            if (workspace.GitRef is not null && workspace.GitUrl is null)
            {
                throw Invalid("workspace.git_ref needs workspace.git_url.");
            }
        }

        if (Limits is { } limits)
        {
            InRange(limits.MaxSteps, 1, 10_000, "limits.max_steps");
            InRange(limits.MaxTokens, 1_000, 1_000_000_000, "limits.max_tokens");
            InRange(limits.MaxCostUsd, 0.0, 100_000.0, "limits.max_cost_usd");
            InRange(limits.TimeoutS, 1.0, 7 * 86_400.0, "limits.timeout_s");
            InRange(limits.MemoryMb, 64, 262_144, "limits.memory_mb");
            InRange(limits.Cpus, 0.05, Environment.ProcessorCount, "limits.cpus");
        }

        // The sandbox's own checks (backend, network) are the same as for POST /v1/sandboxes.
        _ = new CreateSandboxRequest { Backend = Backend, Network = Network }.Validate(backendName);

        if (Env is { } env)
        {
            if (env.Count > 200)
            {
                throw Invalid("'env' holds at most 200 variables.");
            }

            foreach (var (name, value) in env)
            {
                if (!EnvName().IsMatch(name) || value is null || value.Contains('\0', StringComparison.Ordinal) || value.Length > 32_768)
                {
                    throw Invalid($"env '{name}': names are letters, digits and '_' (not starting with a digit); values are strings of at most 32 KiB without NUL.");
                }
            }
        }

        if (Labels is { } labels && (labels.Count > 20 || labels.Any(l => l is null || !Label().IsMatch(l))))
        {
            throw Invalid("'labels': at most 20, each 1 to 64 of letters, digits, '-', '_', '.', ':' or '/'.");
        }

        InRange(Priority, -100, 100, "priority");
        InRange(Context?.WindowTokens, 1_000, 100_000_000, "context.window_tokens");
        InRange(Context?.MaxPromptTokens, 1_000, 100_000_000, "context.max_prompt_tokens");
        InRange(Context?.OutputReserveTokens, 0L, 1_000_000L, "context.output_reserve_tokens");
        InRange(Context?.KeepExchanges, 1, 50, "context.keep_exchanges");
        InRange(Context?.MaskAt, 0.1, 0.95, "context.mask_at");
        InRange(Context?.SummarizeAt, 0.2, 0.98, "context.summarize_at");
        if (Context is { } context)
        {
            if ((context.MaskAt ?? 0.6) > (context.SummarizeAt ?? 0.85))
            {
                throw Invalid("context.mask_at must not be above context.summarize_at: outputs are masked before older work is summarized.");
            }

            if (context.OutputReserveTokens is { } reserve && context.WindowTokens is { } window && reserve >= window / 2)
            {
                throw Invalid($"context.output_reserve_tokens ({reserve}) must be below half of context.window_tokens ({window}).");
            }

            if (context.SummarizerModel is { } summarizer && !Models.ModelSpec.TryParse(summarizer, out _, out var error))
            {
                throw Invalid("context.summarizer_model: " + error);
            }
        }
    }

    private static void InRange<T>(T? value, T min, T max, string name)
        where T : struct, IComparable<T>
    {
        if (value is { } v && (v.CompareTo(min) < 0 || v.CompareTo(max) > 0))
        {
            throw Invalid($"{name} must be between {min} and {max}.");
        }
    }

    private static OrchestratorException Invalid(string message) => new(400, "invalid_argument", message);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvName();

    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,64}$")]
    private static partial Regex Label();
}

/// <summary>Where a job's workspace comes from: a git repository, an upload (<c>POST /v1/uploads</c>), or nothing.</summary>
public sealed record JobWorkspaceRequest
{
    public string? GitUrl { get; init; }

    public string? GitRef { get; init; }

    public string? ArchiveId { get; init; }
}

/// <summary>When a job stops, and the size of its sandbox.</summary>
public sealed record JobLimitsRequest
{
    public int? MaxSteps { get; init; }

    public long? MaxTokens { get; init; }

    public double? MaxCostUsd { get; init; }

    public double? TimeoutS { get; init; }

    public double? Cpus { get; init; }

    public int? MemoryMb { get; init; }
}

/// <summary>Overrides of the model's window, the prompt budget and the context manager's policy for one job.</summary>
public sealed record JobContextRequest
{
    public long? WindowTokens { get; init; }

    public long? MaxPromptTokens { get; init; }

    /// <summary>Tokens of the window kept for the answer.</summary>
    public long? OutputReserveTokens { get; init; }

    /// <summary>The most recent tool exchanges always shown in full.</summary>
    public int? KeepExchanges { get; init; }

    /// <summary>The fraction of the budget at which older outputs are masked.</summary>
    public double? MaskAt { get; init; }

    /// <summary>The fraction of the budget at which the oldest work is summarized.</summary>
    public double? SummarizeAt { get; init; }

    /// <summary>The model that writes summaries (<c>provider:name</c>); the job's model when absent.</summary>
    public string? SummarizerModel { get; init; }
}
