namespace Runable.Box.Protocol.Files;

/// <summary>The original API's file read result.</summary>
public sealed record FsReadResult
{
    public required string Content { get; init; }
}
