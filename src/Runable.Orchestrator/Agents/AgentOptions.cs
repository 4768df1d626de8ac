using Runable.Orchestrator.Agents.Tools;

namespace Runable.Orchestrator.Agents;

/// <summary>Defaults of the agent loop, for jobs that do not set their own limits.</summary>
public sealed record AgentOptions
{
    /// <summary>Model calls per job when <c>limits.max_steps</c> is absent.</summary>
    public int MaxSteps { get; init; } = 100;

    /// <summary>The context window assumed when neither the job nor the model's configuration gives one.</summary>
    public int DefaultContextWindow { get; init; } = 128_000;

    /// <summary>Tokens of the window kept free for the model's answer.</summary>
    public int OutputReserve { get; init; } = 8_192;

    /// <summary>How long a finished job's sandbox stays for inspection without requests before it is reaped.</summary>
    public TimeSpan KeepSandbox { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The tools' limits.</summary>
    public AgentToolOptions Tools { get; init; } = new();
}
