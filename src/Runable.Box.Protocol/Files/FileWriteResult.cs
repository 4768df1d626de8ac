namespace Runable.Box.Protocol.Files;

/// <summary>The result of <c>PUT /files</c>.</summary>
public sealed record FileWriteResult
{
    public required string Path { get; init; }

    public long Size { get; init; }
}
