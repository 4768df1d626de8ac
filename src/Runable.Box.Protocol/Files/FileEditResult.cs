namespace Runable.Box.Protocol.Files;

/// <summary>The result of an edit: a unified diff of the change.</summary>
public sealed record FileEditResult
{
    public required string Path { get; init; }

    public required string Diff { get; init; }
}
