namespace Runable.Cli.Doctor;

/// <summary>How a probe process ended: not started, timed out, or exited with its output.</summary>
public sealed record ProcessOutcome
{
    /// <summary>Whether the program could be started at all (false: not found or not executable).</summary>
    public required bool Started { get; init; }

    /// <summary>Why it could not be started, when <see cref="Started"/> is false.</summary>
    public string? StartError { get; init; }

    /// <summary>The exit code, or null when it did not exit in time (it was killed).</summary>
    public int? ExitCode { get; init; }

    /// <summary>Whether it was killed for not exiting in time.</summary>
    public bool TimedOut { get; init; }

    /// <summary>Everything it wrote to standard output.</summary>
    public string StandardOutput { get; init; } = "";

    /// <summary>Everything it wrote to standard error.</summary>
    public string StandardError { get; init; } = "";

    /// <summary>Started, exited in time, and with code 0.</summary>
    public bool Succeeded => Started && !TimedOut && ExitCode == 0;
}
