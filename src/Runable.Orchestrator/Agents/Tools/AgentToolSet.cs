using Microsoft.Extensions.AI;
using Runable.Box.Client;
using Runable.Box.Protocol.Health;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// The tools of one job's agent over the job's sandbox: <c>bash</c>, <c>str_replace_based_edit_tool</c>, <c>code</c>,
/// <c>computer</c> and <c>finish</c>, each only when the sandbox's box serves what it needs. Calls never throw for
/// failures the model can act on: those come back as <c>Error:</c> observations. Holds per-job state (the bash
/// session, the editor's undo history, the finish report); dispose it when the job ends.
/// </summary>
public sealed class AgentToolSet : IAsyncDisposable
{
    /// <summary>Where a sandbox's box keeps the workspace; used when the box has no shell to ask.</summary>
    public const string DefaultWorkspace = "/workspace";

    private readonly BashTool? _bash;
    private readonly Dictionary<string, BoxTool> _tools;
    private FinishReport? _finished;

    private AgentToolSet(BoxClient box, AgentToolOptions options, HealthFeatures features, string? sessionId, string workspace, TimeProvider time)
    {
        var limiter = new OutputLimiter(box, options);
        var tools = new List<BoxTool>();
        if (features.Shell)
        {
            _bash = new BashTool(box, options, limiter, sessionId, workspace, time);
            tools.Add(_bash);
        }

        tools.Add(new EditTool(box, limiter, workspace, time));
        var languages = new List<string>();
        if (features.Python)
        {
            languages.Add("python");
        }

        if (features.Typescript)
        {
            languages.Add("typescript");
        }

        if (languages.Count > 0)
        {
            tools.Add(new CodeTool(box, options, limiter, languages, workspace, time));
        }

        if (features.Desktop)
        {
            tools.Add(new ComputerTool(box, options, time));
        }

        tools.Add(new FinishTool(report => _finished = report, time));
        foreach (var tool in tools)
        {
            tool.Completed += result => Completed?.Invoke(result);
        }

        _tools = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Functions = [.. tools];
        Workspace = workspace;
    }

    /// <summary>The tools to hand to the chat client (<c>ChatOptions.Tools</c>); invoking one returns a string, or text and image content.</summary>
    public IReadOnlyList<AIFunction> Functions { get; }

    /// <summary>The workspace directory inside the sandbox, as the tools' descriptions name it.</summary>
    public string Workspace { get; }

    /// <summary>The agent's report once it called <c>finish</c>; null until then.</summary>
    public FinishReport? Finished => Volatile.Read(ref _finished);

    /// <summary>True once the agent called <c>finish</c>: the loop should stop.</summary>
    public bool IsFinished => Finished is not null;

    /// <summary>Raised after every tool call, however it was invoked, with what it produced (for the job's event log).</summary>
    public event Action<ToolResult>? Completed;

    /// <summary>Asks the box which features it serves and builds the tools it supports.</summary>
    public static async Task<AgentToolSet> CreateAsync(BoxClient box, AgentToolOptions? options = null, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        options ??= new AgentToolOptions();
        options.Validate();
        var health = await box.HealthAsync(cancellationToken).ConfigureAwait(false);
        var workspace = DefaultWorkspace;
        string? sessionId = null;
        if (health.Features.Shell)
        {
            // bash's session starts in the workspace and reports it as the box names it, for the tools' descriptions.
            var session = await box.CreateSessionAsync(options.SessionRequest(), cancellationToken).ConfigureAwait(false);
            sessionId = session.SessionId;
            workspace = session.Cwd?.TrimEnd('/') is { Length: > 0 } cwd ? cwd : workspace;
        }

        return new AgentToolSet(box, options, health.Features, sessionId, workspace, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Runs the tool <paramref name="name"/> with <paramref name="arguments"/> (JSON elements or plain values) and returns its
    /// full result; an unknown tool is an <c>Error:</c> result. Only cancellation of <paramref name="cancellationToken"/> throws.
    /// </summary>
    public Task<ToolResult> InvokeAsync(string name, IReadOnlyDictionary<string, object?>? arguments, CancellationToken cancellationToken = default)
    {
        if (_tools.TryGetValue(name, out var tool))
        {
            return tool.RunAsync(arguments, cancellationToken);
        }

        var unknown = ToolResult.Error($"there is no tool named '{name}'. The tools are: {string.Join(", ", _tools.Keys)}.") with { Tool = name };
        Completed?.Invoke(unknown);
        return Task.FromResult(unknown);
    }

    /// <summary>Closes the bash session; the box client is the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_bash is not null)
        {
            await _bash.DisposeAsync().ConfigureAwait(false);
        }
    }
}
