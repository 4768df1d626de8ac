namespace Runable.Box.Protocol.Files;

/// <summary>The result of <c>POST /files/archive</c>.</summary>
public sealed record ArchiveExtractResult
{
    /// <summary>The directory the archive was unpacked into, relative to the workspace.</summary>
    public required string Path { get; init; }

    /// <summary>How many entries were unpacked.</summary>
    public int Entries { get; init; }
}
