namespace Runable.Box.Protocol.Shell;

/// <summary>The outcome of <c>POST /shell/exec</c>.</summary>
public sealed record ShellExecResult
{
    /// <summary>The exit code (128 + signal number when killed by a signal); null while the command still runs.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Standard output, cut to the inline cap (head and tail kept) when <see cref="Truncated"/>.</summary>
    public string Stdout { get; init; } = "";

    /// <summary>Standard error, cut like <see cref="Stdout"/>.</summary>
    public string Stderr { get; init; } = "";

    /// <summary>True when the timeout passed before the command ended.</summary>
    public bool TimedOut { get; init; }

    /// <summary>True when either stream was longer than the inline cap; the whole output is at the process's output route.</summary>
    public bool Truncated { get; init; }

    public long DurationMs { get; init; }

    /// <summary>The handle of the command's process: its output route holds everything it wrote, and it keeps running when backgrounded.</summary>
    public string? ProcessId { get; init; }

    /// <summary>Total bytes the command wrote to standard output so far.</summary>
    public long StdoutBytes { get; init; }

    /// <summary>Total bytes the command wrote to standard error so far.</summary>
    public long StderrBytes { get; init; }

    /// <summary>Set when a session command timed out: the session's shell was replaced and its directory and exported variables restored.</summary>
    public bool? SessionReset { get; init; }

    /// <summary>A sentence for the reader when something unusual happened (timeout, truncation, session reset).</summary>
    public string? Note { get; init; }
}
