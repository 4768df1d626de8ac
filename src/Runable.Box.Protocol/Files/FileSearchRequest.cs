namespace Runable.Box.Protocol.Files;

/// <summary>A search of file contents under a directory of the workspace.</summary>
public sealed record FileSearchRequest
{
    /// <summary>Literal text, or a .NET regular expression when <see cref="Regex"/> is true.</summary>
    public string? Pattern { get; init; }

    /// <summary>Directory (or file) to search; defaults to the workspace root.</summary>
    public string? Path { get; init; }

    /// <summary>Glob on paths relative to <see cref="Path"/>, e.g. <c>**/*.cs</c>.</summary>
    public string? Glob { get; init; }

    public bool? Regex { get; init; }

    public bool? IgnoreCase { get; init; }

    /// <summary>Default 200.</summary>
    public int? MaxResults { get; init; }
}
