namespace Runable.Box.Protocol.Code;

/// <summary>The body of <c>POST /code/contexts</c>.</summary>
public sealed record CodeContextRequest
{
    /// <summary><c>python</c> (the default) or <c>typescript</c>.</summary>
    public string? Language { get; init; }

    /// <summary>The kernel's working directory, relative to the workspace or absolute; the workspace by default.</summary>
    public string? Cwd { get; init; }
}
