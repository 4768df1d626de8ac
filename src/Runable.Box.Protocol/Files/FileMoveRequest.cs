namespace Runable.Box.Protocol.Files;

/// <summary>Move or rename a file or directory inside the workspace.</summary>
public sealed record FileMoveRequest
{
    public string? Src { get; init; }

    public string? Dst { get; init; }

    /// <summary>Replace an existing destination file; default false.</summary>
    public bool? Overwrite { get; init; }
}
