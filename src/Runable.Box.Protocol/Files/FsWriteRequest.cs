namespace Runable.Box.Protocol.Files;

/// <summary>The original API's file write: <c>POST /fs/write {path, content}</c>.</summary>
public sealed record FsWriteRequest
{
    public string? Path { get; init; }

    public string? Content { get; init; }
}
