namespace Runable.Box.Protocol.Processes;

/// <summary>A supervised process and what it has written.</summary>
public sealed record ProcessInfo
{
    public required string ProcessId { get; init; }

    public required string Command { get; init; }

    public ProcessStatus Status { get; init; }

    /// <summary>The exit code (128 + signal number when killed by a signal); null while running.</summary>
    public int? ExitCode { get; init; }

    public int Pid { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Total bytes written to standard output since the start.</summary>
    public long StdoutBytes { get; init; }

    /// <summary>Total bytes written to standard error since the start.</summary>
    public long StderrBytes { get; init; }

    /// <summary>Oldest standard output bytes dropped because the spool reached its cap.</summary>
    public long StdoutDroppedBytes { get; init; }

    /// <summary>Oldest standard error bytes dropped because the spool reached its cap.</summary>
    public long StderrDroppedBytes { get; init; }

    /// <summary>How the process was started: <c>process</c> (POST /processes) or <c>exec</c> (POST /shell/exec).</summary>
    public string Origin { get; init; } = "process";
}
