namespace Runable.Box.Protocol.Files;

/// <summary>One entry of a directory listing or a stat.</summary>
public sealed record FileEntry
{
    public required string Name { get; init; }

    /// <summary>The path relative to the workspace root.</summary>
    public required string Path { get; init; }

    public FileEntryType Type { get; init; }

    public long Size { get; init; }

    public DateTimeOffset Modified { get; init; }

    /// <summary>Unix permission bits, e.g. 420 for 0644.</summary>
    public int? Mode { get; init; }

    /// <summary>For a symlink, the path it points to (as stored in the link).</summary>
    public string? Target { get; init; }
}
