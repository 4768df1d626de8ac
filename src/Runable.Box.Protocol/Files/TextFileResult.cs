namespace Runable.Box.Protocol.Files;

/// <summary>A range of lines of a text file, from <c>GET /files/text</c>.</summary>
public sealed record TextFileResult
{
    public required string Path { get; init; }

    public required string Content { get; init; }

    /// <summary>First line returned, 1-based.</summary>
    public int StartLine { get; init; }

    /// <summary>Last line returned, inclusive.</summary>
    public int EndLine { get; init; }

    public int TotalLines { get; init; }

    /// <summary>True when the range was cut to the size cap.</summary>
    public bool Truncated { get; init; }
}
