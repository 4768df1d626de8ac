namespace Runable.Box.Protocol.Files;

/// <summary>The result of <c>GET /files/list</c>.</summary>
public sealed record FileListResult
{
    public required IReadOnlyList<FileEntry> Entries { get; init; }

    /// <summary>True when the listing stopped at its entry cap.</summary>
    public bool Truncated { get; init; }
}
