namespace Runable.Box.Protocol.Code;

/// <summary>A code context: one kernel and its state.</summary>
public sealed record CodeContextInfo
{
    public required string ContextId { get; init; }

    public required string Language { get; init; }

    /// <summary><c>starting</c> (not started yet: kernels start on first use), <c>idle</c>, <c>busy</c>, or <c>dead</c>.</summary>
    public required string State { get; init; }

    public required string Cwd { get; init; }

    /// <summary>True for the language's default context, which <c>/code/exec</c> uses without a <c>context_id</c>.</summary>
    public bool IsDefault { get; init; }

    /// <summary>The kernel's id, as the Jupyter view lists it; absent before the kernel starts.</summary>
    public string? KernelId { get; init; }

    /// <summary>Why the kernel died, when it did.</summary>
    public string? Error { get; init; }
}
