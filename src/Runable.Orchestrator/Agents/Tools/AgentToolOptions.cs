namespace Runable.Orchestrator.Agents.Tools;

/// <summary>Limits of the agent's tools: how long a call may run and how much of its output the model reads.</summary>
public sealed record AgentToolOptions
{
    /// <summary>How long one <c>bash</c> command may run before it is killed and the session's shell is replaced.</summary>
    public TimeSpan BashTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>How long one <c>code</c> call may run before the kernel is interrupted (it keeps its state).</summary>
    public TimeSpan CodeTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Most characters of one observation; longer output keeps its head and tail.</summary>
    public int MaxOutputChars { get; init; } = 16 * 1024;

    /// <summary>Most lines of one observation; longer output keeps its head and tail.</summary>
    public int MaxOutputLines { get; init; } = 400;

    /// <summary>The directory inside the sandbox (outside the workspace, whose diff is the job's result) where cut outputs are saved whole.</summary>
    public string OutputDirectory { get; init; } = "/tmp/runable/outputs";

    /// <summary>Most characters of one output fetched from the box and saved whole; beyond that the saved copy is cut too.</summary>
    public int MaxSavedOutputChars { get; init; } = 32 * 1024 * 1024;

    /// <summary>Environment variables of the job, exported in the bash session (and in the one that replaces it).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>The request that opens a bash session with <see cref="Env"/>.</summary>
    internal Runable.Box.Protocol.Shell.ShellSessionRequest SessionRequest() =>
        new() { Env = Env.Count == 0 ? null : new Dictionary<string, string>(Env, StringComparer.Ordinal) };

    /// <summary>Whether desktop actions other than <c>screenshot</c> and <c>cursor_position</c> return a screenshot taken after them.</summary>
    public bool ScreenshotAfterActions { get; init; } = true;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (BashTimeout <= TimeSpan.Zero || CodeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BashTimeout), "BashTimeout and CodeTimeout must be positive.");
        }

        if (MaxOutputChars < 256 || MaxOutputLines < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxOutputChars), "MaxOutputChars must be at least 256 and MaxOutputLines at least 10.");
        }

        if (!OutputDirectory.StartsWith('/') || OutputDirectory.Contains('\'', StringComparison.Ordinal))
        {
            throw new ArgumentOutOfRangeException(nameof(OutputDirectory), "OutputDirectory must be an absolute path without quotes.");
        }

        if (MaxSavedOutputChars < MaxOutputChars)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSavedOutputChars), "MaxSavedOutputChars must be at least MaxOutputChars.");
        }
    }
}
