namespace Runable.Box.Protocol.Files;

/// <summary>The result of <c>POST /files/search</c>.</summary>
public sealed record FileSearchResult
{
    public required IReadOnlyList<FileSearchMatch> Matches { get; init; }

    /// <summary>True when the search stopped at <c>max_results</c> or another cap.</summary>
    public bool Truncated { get; init; }

    public int FilesSearched { get; init; }
}
