namespace Runable.Box.Protocol.Code;

/// <summary>What a run of code produced, in order, and the same flattened for readers that want text.</summary>
public sealed record CodeExecResult
{
    public required string ContextId { get; init; }

    /// <summary><c>ok</c>, <c>error</c> (the code raised), or <c>timeout</c> (interrupted after <c>timeout_s</c>).</summary>
    public required string Status { get; init; }

    /// <summary>The kernel's execution counter (In [n]).</summary>
    public int? ExecutionCount { get; init; }

    public required IReadOnlyList<CodeOutput> Outputs { get; init; }

    /// <summary>Standard output and the plain-text form of results, in order.</summary>
    public required string Stdout { get; init; }

    /// <summary>Standard error and error tracebacks.</summary>
    public required string Stderr { get; init; }

    /// <summary>0 when the code ran without error, 1 otherwise.</summary>
    public int ExitCode { get; init; }

    public long DurationMs { get; init; }

    /// <summary>True when outputs were cut to the inline limit (head and tail kept).</summary>
    public bool Truncated { get; init; }

    /// <summary>When <see cref="Truncated"/>: the id under which the whole stdout and stderr can be read
    /// (<c>GET /code/outputs/{output_id}?stream=stdout&amp;offset=0</c>).</summary>
    public string? OutputId { get; init; }
}
