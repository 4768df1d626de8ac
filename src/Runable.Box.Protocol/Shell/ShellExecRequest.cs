namespace Runable.Box.Protocol.Shell;

/// <summary>A command for <c>POST /shell/exec</c>, run by <c>bash -c</c> or in a persistent session.</summary>
public sealed record ShellExecRequest
{
    /// <summary>The bash command line to run.</summary>
    public string? Command { get; init; }

    /// <summary>Working directory, relative to the workspace or absolute; defaults to the workspace (or the session's directory).</summary>
    public string? Cwd { get; init; }

    /// <summary>Extra environment variables for this command.</summary>
    public Dictionary<string, string>? Env { get; init; }

    /// <summary>Text written to the command's standard input, which is then closed.</summary>
    public string? Stdin { get; init; }

    /// <summary>Seconds to wait before returning with <c>timed_out: true</c>; default 60.</summary>
    public double? TimeoutS { get; init; }

    /// <summary>The original API's name for <see cref="TimeoutS"/>.</summary>
    public double? Timeout { get; init; }

    /// <summary>Run in this persistent shell session instead of a fresh <c>bash -c</c>.</summary>
    public string? SessionId { get; init; }

    /// <summary>What to do when the timeout passes; default <c>background</c>.</summary>
    public OnTimeout? OnTimeout { get; init; }
}
