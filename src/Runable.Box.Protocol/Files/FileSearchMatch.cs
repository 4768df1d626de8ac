namespace Runable.Box.Protocol.Files;

/// <summary>One matching line.</summary>
public sealed record FileSearchMatch
{
    public required string Path { get; init; }

    /// <summary>1-based line number.</summary>
    public int Line { get; init; }

    public required string Text { get; init; }
}
